package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// mountShm mounts the pod's /dev/shm: a tmpfs of size bytes that the pod's
// containers bind-mount, so they share System V and POSIX shared memory.
func mountShm(path string, size int64) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return err
	}
	opts := "mode=1777,size=" + strconv.FormatInt(size, 10)
	if err := unix.Mount("shm", path, "tmpfs", unix.MS_NOEXEC|unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount shm tmpfs at %s: %w", path, err)
	}
	return nil
}

// unmountShm unmounts the pod's /dev/shm; one not mounted is fine.
func unmountShm(path string) error {
	if path == "" {
		return nil
	}
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount shm %s: %w", path, err)
	}
	return nil
}
