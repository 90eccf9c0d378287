package image

import (
	"strings"
	"testing"
)

func TestPinsMatch(t *testing.T) {
	busybox := &Image{
		RepoTags:    []string{"docker.io/library/busybox:1.36"},
		RepoDigests: []string{"docker.io/library/busybox@sha256:" + strings.Repeat("a", 64)},
	}
	pause := &Image{RepoTags: []string{"registry.k8s.io/pause:3.10"}}
	for _, tc := range []struct {
		patterns      []string
		busybox, paus bool
	}{
		{nil, false, false},
		{[]string{"busybox:1.36"}, true, false}, // normalized
		{[]string{"busybox:1.35"}, false, false},
		{[]string{"busybox"}, false, false}, // :latest
		{[]string{"docker.io/library/busybox@sha256:" + strings.Repeat("a", 64)}, true, false},
		{[]string{"registry.k8s.io/*"}, false, true},
		{[]string{"registry.k8s.io/pause:3.10", "docker.io/library/*"}, true, true},
	} {
		p, err := ParsePins(tc.patterns)
		if err != nil {
			t.Fatalf("%q: %v", tc.patterns, err)
		}
		if got := p.Match(busybox); got != tc.busybox {
			t.Errorf("%q: busybox pinned %v, want %v", tc.patterns, got, tc.busybox)
		}
		if got := p.Match(pause); got != tc.paus {
			t.Errorf("%q: pause pinned %v, want %v", tc.patterns, got, tc.paus)
		}
	}
	for _, bad := range []string{"*", "reg*istry/*", "UPPER:1", " busybox"} {
		if _, err := ParsePins([]string{bad}); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}
