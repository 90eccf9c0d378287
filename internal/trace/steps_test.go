package trace

import (
	"testing"
	"time"
)

func TestSteps(t *testing.T) {
	var s Steps
	endA := s.Begin("a")
	endB := s.Begin("b") // nested in a
	endB()
	endA()
	s.Begin("never ends")
	if len(s) != 3 || s[0].Name != "a" || s[1].Name != "b" {
		t.Fatalf("steps %+v", s)
	}
	if s[0].End.Before(s[1].End) || s[1].Start.Before(s[0].Start) {
		t.Errorf("b is not within a: %+v", s)
	}
	if s[2].Duration() != 0 || !s[2].End.IsZero() {
		t.Errorf("an unfinished step has a duration: %+v", s[2])
	}
	if st, ok := s.Find("b"); !ok || st != s[1] {
		t.Errorf("Find(b) = %+v, %v", st, ok)
	}
	if _, ok := s.Find("c"); ok {
		t.Error("Find found a step never begun")
	}
	if s[0].Duration() < 0 || s[0].Duration() > time.Minute {
		t.Errorf("duration %v", s[0].Duration())
	}
}
