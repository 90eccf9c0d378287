package main

import (
	"testing"
	"time"
)

func TestNmeterLine(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.UTC)
	for format, want := range map[string]string{
		"%3t":     "03:04:05.678",
		"%t":      "03:04:05",
		"at %1t!": "at 03:04:05.6!",
		"100%":    "100%",
		"%x %3t":  "%x 03:04:05.678",
	} {
		if got := nmeterLine(format, now); got != want {
			t.Errorf("nmeterLine(%q) = %q, want %q", format, got, want)
		}
	}
}
