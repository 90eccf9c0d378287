// Package fsutil reads files berth does not control (in an image's rootfs,
// or named by a request) without being fooled by them: never through a
// symlink out of their root, never blocking on a FIFO, never opening a
// device, never reading more than a bound.
package fsutil

import (
	"errors"
	"fmt"
	"io"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

var (
	// ErrNotRegular marks a file that is a FIFO, a device, a socket or a
	// directory where a regular file was wanted.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge marks a file larger than its bound.
	ErrTooLarge = errors.New("file too large")
)

// ReadRegularInRoot reads the regular file at path inside root (symlinks
// resolve inside root, as in a chroot) of at most max bytes. A missing file
// is an error that os.IsNotExist knows.
func ReadRegularInRoot(root, path string, max int64) ([]byte, error) {
	h, err := pathrs.OpenInRoot(root, path) // O_PATH: opens nothing for reading
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return readHandle(h, path, max)
}

// ReadRegular reads the regular host file at path, of at most max bytes.
func ReadRegular(path string, max int64) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h := os.NewFile(uintptr(fd), path)
	defer h.Close()
	return readHandle(h, path, max)
}

// readHandle checks what an O_PATH handle names, then reads it through a
// fresh, non-blocking descriptor. Its own errors leave the name to the
// caller's message; the system's are *os.PathError.
func readHandle(h *os.File, name string, max int64) ([]byte, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(h.Fd()), &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%w (%s)", ErrNotRegular, fileType(st.Mode))
	}
	if st.Size > max {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, st.Size, max)
	}
	f, err := pathrs.Reopen(h, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// It may grow between the stat and the read: read one byte more than
	// the bound to tell.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return data, nil
}

func fileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFLNK:
		return "a symlink"
	}
	return "not a regular file"
}
