// Package trace records where the time of a pod's or a container's start
// went: each step with when it began and ended, kept with the object and
// shown in its verbose status.
package trace

import "time"

// Step is one step of a start.
type Step struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	// End is zero for a step that never finished.
	End time.Time `json:"end"`
}

// Duration is how long the step took; 0 if it never finished.
func (s Step) Duration() time.Duration {
	if s.End.IsZero() {
		return 0
	}
	return s.End.Sub(s.Start)
}

// Steps are the steps of one start, in the order they began. They are
// recorded by the one goroutine doing the start.
type Steps []Step

// Find returns the first step named name.
func (s Steps) Find(name string) (Step, bool) {
	for _, st := range s {
		if st.Name == name {
			return st, true
		}
	}
	return Step{}, false
}

// Begin starts a step; the function it returns ends it.
func (s *Steps) Begin(name string) (end func()) {
	i := len(*s)
	*s = append(*s, Step{Name: name, Start: time.Now()})
	return func() { (*s)[i].End = time.Now() }
}
