package cgroups

import (
	"testing"
	"time"
)

func TestCPURates(t *testing.T) {
	var r CPURates
	t0 := time.Now()
	if _, ok := r.Rate("a", 1000, t0); ok {
		t.Error("a rate from one reading")
	}
	if _, ok := r.Rate("a", 2000, t0.Add(10*time.Millisecond)); ok {
		t.Error("a rate from readings 10 ms apart")
	}
	// Half a core over two seconds (from the first reading, kept).
	if v, ok := r.Rate("a", 1000+1e9, t0.Add(2*time.Second)); !ok || v != 5e8 {
		t.Errorf("rate = %d, %v; want 500000000", v, ok)
	}
	if _, ok := r.Rate("a", 5, t0.Add(4*time.Second)); ok {
		t.Error("a rate from a counter that went back")
	}
	r.Forget("a")
	if _, ok := r.Rate("a", 1e9, t0.Add(6*time.Second)); ok {
		t.Error("a rate after Forget")
	}
}
