package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	file := filepath.Join(t.TempDir(), "expected.txt")
	os.WriteFile(file, []byte("# comment\nRuntime info | 2 | 0\nSecurity Context | 30 | 2\n"), 0o644)
	want, err := readExpected(file)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  map[string]*counts
		diff string // "" when they match
	}{
		{"match", map[string]*counts{"Runtime info": {passed: 2}, "Security Context": {passed: 30, skipped: 2}}, ""},
		{"a feature probe broke: passes became skips", map[string]*counts{"Runtime info": {passed: 2}, "Security Context": {passed: 28, skipped: 4}}, "Security Context: 28 passed"},
		{"a failure", map[string]*counts{"Runtime info": {passed: 1, failed: 1}, "Security Context": {passed: 30, skipped: 2}}, "Runtime info: 1 passed, 1 failed"},
		{"a group missing", map[string]*counts{"Runtime info": {passed: 2}}, "Security Context: expected 30 passed, 2 skipped; did not run"},
		{"a group more", map[string]*counts{"Runtime info": {passed: 2}, "Security Context": {passed: 30, skipped: 2}, "New": {passed: 1}}, "New: not expected"},
	}
	for _, tt := range tests {
		diffs := compare(tt.got, want)
		joined := strings.Join(diffs, "\n")
		if tt.diff == "" && len(diffs) > 0 || tt.diff != "" && !strings.Contains(joined, tt.diff) {
			t.Errorf("%s: diffs %q; want %q", tt.name, diffs, tt.diff)
		}
	}
	if _, err := readExpected(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file must be an error")
	}
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("Runtime info | two | 0\n"), 0o644)
	if _, err := readExpected(bad); err == nil {
		t.Error("a count that is not a number must be an error")
	}
}
