package fsutil

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestPrivateDirTightensWhatExists(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a dir to another user")
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A local user pre-made the dir, open to all, before berth started.
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := PrivateDir(dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode() & (os.ModePerm | os.ModeSticky); got != 0o700 {
		t.Errorf("mode %v, want 0700", got)
	}
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 0 || s.Gid != 0 {
		t.Errorf("owned by %d:%d, want 0:0", s.Uid, s.Gid)
	}
}

func TestPrivateDirCreatesParents(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := PrivateDir(dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", st.Mode().Perm())
	}
}

func TestPrivateDirRefusesSymlinkAndFile(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, file} {
		if err := PrivateDir(p); err == nil {
			t.Errorf("PrivateDir(%s) succeeded", p)
		}
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o755 {
		t.Errorf("the symlink's target changed mode to %v", st.Mode().Perm())
	}
}

func TestOwnedDirForMappedRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a dir to another user")
	}
	dir := filepath.Join(t.TempDir(), "pod")
	if err := OwnedDir(dir, 0o700, 100000, 100001); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Lstat(dir)
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 100000 || s.Gid != 100001 || st.Mode().Perm() != 0o700 {
		t.Errorf("got %d:%d %v, want 100000:100001 0700", s.Uid, s.Gid, st.Mode().Perm())
	}
}
