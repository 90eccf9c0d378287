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

// Since returns the parts of the steps from t on: a step that began before
// t begins at t, one that ended before t is left out. A call's span shows
// only the part of a step that began before the call (the runtime's create
// of a container, begun by CreateContainer) that the call waited for.
func (s Steps) Since(t time.Time) Steps {
	var out Steps
	for _, st := range s {
		if !st.End.IsZero() && !st.End.After(t) {
			continue
		}
		if st.Start.Before(t) {
			st.Start = t
		}
		out = append(out, st)
	}
	return out
}
