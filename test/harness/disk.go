package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Root is the daemon's root dir (its images, records and container layers).
func (b *Berth) Root() string { return filepath.Join(b.Dir, "root") }

// mountRoot mounts a fresh ext4 filesystem of size, on a loop device, at
// dir; it is unmounted when the test ends.
func mountRoot(t testing.TB, dir, size string) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "root.ext4")
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-m", "0", "-E", "nodiscard", img, size).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 %s: %v\n%s", size, err, out)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "loop,nosuid,nodev", img, dir).CombinedOutput(); err != nil {
		t.Fatalf("mount %s at %s: %v\n%s", img, dir, err, out)
	}
	t.Cleanup(func() {
		// Lazily: a container a failed test left may still have its
		// rootfs mounted below. The loop device goes with the last user.
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// RootUse is how many bytes of the root's filesystem are in use, and how
// many are free.
func (b *Berth) RootUse(t testing.TB) (used, free uint64) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(b.Root(), &st); err != nil {
		t.Fatal(err)
	}
	bs := uint64(st.Bsize)
	return (st.Blocks - st.Bfree) * bs, st.Bavail * bs
}

// FillRoot writes a file on the root until no more than leave bytes are
// free, and returns a function that removes it.
func (b *Berth) FillRoot(t testing.TB, leave uint64) (free func()) {
	t.Helper()
	path := filepath.Join(b.Root(), "filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		_, avail := b.RootUse(t)
		if avail <= leave {
			break
		}
		n := min(uint64(len(chunk)), avail-leave)
		if _, err := f.Write(chunk[:n]); err != nil {
			break // full: nothing more fits
		}
	}
	_ = f.Sync()
	return func() {
		if err := os.Remove(path); err != nil {
			t.Errorf("remove the filler: %v", err)
		}
	}
}
