package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// A pin berth leaves when it stops (a namespace bound on a file) and a
// mount nested under another are all gone after unmountUnder.
func TestUnmountUnder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	dir := t.TempDir()
	outer := filepath.Join(dir, "run")
	if err := os.Mkdir(outer, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", outer, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	pin := filepath.Join(outer, "netns")
	t.Cleanup(func() { unix.Unmount(pin, unix.MNT_DETACH); unix.Unmount(outer, unix.MNT_DETACH) })
	if err := os.WriteFile(pin, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("/proc/self/ns/net", pin, "none", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}

	if err := unmountUnder(dir); err != nil {
		t.Fatal(err)
	}
	left, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range left {
		t.Errorf("still mounted: %s (%s)", m.Mountpoint, m.FSType)
	}
}
