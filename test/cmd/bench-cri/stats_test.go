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
