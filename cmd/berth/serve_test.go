package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestCollectSoonerUnlessGOGCIsSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "") // restored after the test
	os.Unsetenv("GOGC")
	collectSooner()
	if got := debug.SetGCPercent(100); got != daemonGCPercent {
		t.Errorf("GC percent without GOGC = %d, want %d", got, daemonGCPercent)
	}
	t.Setenv("GOGC", "300")
	debug.SetGCPercent(300) // as the runtime read it at start
	collectSooner()
	if got := debug.SetGCPercent(100); got != 300 {
		t.Errorf("GC percent with GOGC=300 = %d; the operator's choice must stand", got)
	}
}
