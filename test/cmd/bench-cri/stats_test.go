package main

import (
	"testing"
	"time"
)

func TestSummariseNearestRank(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- { // out of order on purpose
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	l := summarise("x", s)
	if l.N != 100 || l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 {
		t.Errorf("summary of 1..100 ms = %+v", l)
	}
	if one := summarise("one", []time.Duration{3 * time.Millisecond}); one.P50 != 3 || one.P99 != 3 {
		t.Errorf("summary of one sample = %+v", one)
	}
	if none := summarise("none", nil); none.N != 0 || none.P50 != 0 {
		t.Errorf("summary of no samples = %+v", none)
	}
}

func TestReadyLessOwn(t *testing.T) {
	crictl := []Latency{
		{Name: "crictl version", P50: 50},
		{Name: "crictl runp", P50: 140},
		{Name: "crictl: pod + container ready", P50: 330},
	}
	if got := readyLessOwn(crictl); got != 180 {
		t.Errorf("330 ms ready, 50 ms per crictl version: %v ms left, want 180", got)
	}
	if got := readyLessOwn(crictl[1:]); got != 0 {
		t.Errorf("without crictl version: %v, want 0 (not measured)", got)
	}
}
