package trash

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tree makes a dir with nested files under parent, as a container's upper
// dir has, and returns it.
func tree(t testing.TB, parent, name string) string {
	t.Helper()
	root := filepath.Join(parent, name)
	for _, d := range []string{"etc", "var/log/app", "work/work"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range []string{"etc/hosts", "var/log/app/a.log", "var/log/app/b.log"} {
		if err := os.WriteFile(filepath.Join(root, f), make([]byte, 100*i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// overlayfs leaves its work dir unreadable to anyone but root.
	if err := os.Chmod(filepath.Join(root, "work/work"), 0); err != nil {
		t.Fatal(err)
	}
	return root
}

func entries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// waitEmpty waits up to 10 s for the worker to empty dir and returns what
// is left in it.
func waitEmpty(t testing.TB, dir string) []string {
	t.Helper()
	left := entries(t, dir)
	for deadline := time.Now().Add(10 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = entries(t, dir) {
		time.Sleep(5 * time.Millisecond)
	}
	return left
}

func TestDiscardMovesAtOnceAndDeletesInTheBackground(t *testing.T) {
	base := t.TempDir()
	b, err := Open(filepath.Join(base, "trash"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, n := range []string{"c1", "c2", "c3"} {
		paths = append(paths, tree(t, base, n))
	}
	for _, p := range paths {
		if err := b.Discard(p); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Fatalf("%s still there after Discard (err %v)", p, err)
		}
	}
	if left := waitEmpty(t, filepath.Join(base, "trash")); len(left) != 0 {
		t.Fatalf("trash holds %v after the worker's pass", left)
	}
	if err := b.Discard(filepath.Join(base, "never-was")); err != nil {
		t.Fatalf("Discard of a missing path = %v, want nil", err)
	}
}

func TestOpenDeletesWhatACrashLeft(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "trash")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tree(t, dir, "c1.leftover")
	tree(t, dir, "c2.leftover")
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if left := waitEmpty(t, dir); len(left) != 0 {
		t.Fatalf("an earlier run's trash is still there: %v", left)
	}
}

func TestDiscardAcrossFilesystemsDeletesInPlace(t *testing.T) {
	base := t.TempDir()
	other, err := os.MkdirTemp("/dev/shm", "trash-test-")
	if err != nil {
		t.Skipf("no /dev/shm to stand for another filesystem: %v", err)
	}
	defer os.RemoveAll(other)
	var a, c unix.Stat_t
	if unix.Stat(base, &a) != nil || unix.Stat(other, &c) != nil || a.Dev == c.Dev {
		t.Skip("/dev/shm is on the temp dir's filesystem here: no rename across filesystems to try")
	}
	b, err := Open(filepath.Join(base, "trash"))
	if err != nil {
		t.Fatal(err)
	}
	p := tree(t, other, "c1")
	if err := b.Discard(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Discard across filesystems (err %v)", p, err)
	}
}

// BenchmarkDiscard is what removing a container's dirs costs the caller:
// a rename, against deleting the tree in place.
func BenchmarkDiscard(b *testing.B) {
	base := b.TempDir()
	bin, err := Open(filepath.Join(base, "trash"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("rename", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			p := tree(b, base, "c")
			b.StartTimer()
			if err := bin.Discard(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("remove-in-place", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			p := tree(b, base, "c")
			b.StartTimer()
			if err := os.RemoveAll(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	waitEmpty(b, filepath.Join(base, "trash"))
}
