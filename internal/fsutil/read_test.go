package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestReadRegular(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	small := write("small", "root:x:0:0::/root:/bin/sh\n")
	big := write("big", strings.Repeat("x", 2000))
	fifo := filepath.Join(root, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadRegular(small, 1000); err != nil || string(data) != "root:x:0:0::/root:/bin/sh\n" {
		t.Errorf("small file: %q, %v", data, err)
	}
	for path, want := range map[string]error{
		big:               ErrTooLarge,
		fifo:              ErrNotRegular, // and it must not block
		"/dev/zero":       ErrNotRegular,
		root:              ErrNotRegular,
		root + "/missing": os.ErrNotExist,
		"/proc/self/stat": nil, // size 0 in stat, read up to the bound
	} {
		_, err := ReadRegular(path, 1000)
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("ReadRegular(%s) = %v, want %v", path, err, want)
		}
	}
}

// Inside a root, a symlink resolves against the root: an image's
// /etc/passwd pointing at the host's reads the image's own file.
func TestReadRegularInRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/shadow"), []byte("image's own\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/shadow", filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../../etc/hostname", filepath.Join(root, "etc/group")); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadRegularInRoot(root, "/etc/passwd", 100); err != nil || string(data) != "image's own\n" {
		t.Errorf("absolute symlink: %q, %v; want the file inside the root", data, err)
	}
	if _, err := ReadRegularInRoot(root, "/etc/group", 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("relative symlink out of the root: %v; want not found (it resolves inside)", err)
	}
	if err := unix.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRegularInRoot(root, "/etc/fifo", 100); !errors.Is(err, ErrNotRegular) {
		t.Errorf("FIFO: %v, want ErrNotRegular", err)
	}
}
