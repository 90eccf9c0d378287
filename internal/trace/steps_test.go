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

func TestStepsSince(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(1000, 0).Add(time.Duration(ms) * time.Millisecond) }
	s := Steps{
		{Name: "before", Start: at(0), End: at(10)},
		{Name: "across", Start: at(5), End: at(30)},
		{Name: "after", Start: at(25), End: at(40)},
		{Name: "unfinished", Start: at(1)},
	}
	got := s.Since(at(20))
	want := Steps{
		{Name: "across", Start: at(20), End: at(30)},
		{Name: "after", Start: at(25), End: at(40)},
		{Name: "unfinished", Start: at(20)},
	}
	if len(got) != len(want) {
		t.Fatalf("Since = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if s[1].Start != at(5) {
		t.Error("Since changed the steps it was given")
	}
}
