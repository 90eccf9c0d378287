package main

import (
	"math"
	"slices"
	"time"
)

// Latency summarises the samples of one measured step.
type Latency struct {
	Name string  `json:"name"`
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

// summarise computes the percentiles of samples (nearest rank).
func summarise(name string, samples []time.Duration) Latency {
	l := Latency{Name: name, N: len(samples)}
	if len(samples) == 0 {
		return l
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	rank := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return ms(s[max(i, 0)])
	}
	l.P50, l.P90, l.P99, l.Max = rank(0.5), rank(0.9), rank(0.99), ms(s[len(s)-1])
	return l
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// samples collects durations by step name, in the order steps first appear.
type samples struct {
	order []string
	by    map[string][]time.Duration
}

func newSamples() *samples { return &samples{by: map[string][]time.Duration{}} }

func (s *samples) add(name string, d time.Duration) {
	if _, ok := s.by[name]; !ok {
		s.order = append(s.order, name)
	}
	s.by[name] = append(s.by[name], d)
}

// merge adds every sample of o.
func (s *samples) merge(o *samples) {
	for _, name := range o.order {
		for _, d := range o.by[name] {
			s.add(name, d)
		}
	}
}

func (s *samples) summary(prefix string) []Latency {
	out := make([]Latency, 0, len(s.order))
	for _, name := range s.order {
		out = append(out, summarise(prefix+name, s.by[name]))
	}
	return out
}

// timed runs fn and adds its duration under name when it succeeds.
func (s *samples) timed(name string, fn func() error) error {
	start := time.Now()
	if err := fn(); err != nil {
		return err
	}
	s.add(name, time.Since(start))
	return nil
}
