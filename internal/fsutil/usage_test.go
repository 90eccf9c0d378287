package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A hard link is one inode, its blocks counted once.
	if err := os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "d", "b")); err != nil {
		t.Fatal(err)
	}
	u, err := DiskUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if u.Inodes != 3 || u.Bytes < 1<<20 || u.Bytes > 1<<20+64<<10 {
		t.Errorf("usage %+v, want 3 inodes and about 1 MiB", u)
	}
	if u, err := DiskUsage(filepath.Join(dir, "gone")); err != nil || u != (Usage{}) {
		t.Errorf("usage of a dir that is not there = %+v, %v; want zero", u, err)
	}
}
