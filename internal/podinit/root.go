// Package podinit gives a pod's init, the pause program that is PID 1 of a
// pod's shared PID namespace, a tree of its own: a mount namespace whose
// whole tree is the empty read-only pause rootfs with the program bound at
// /pause. The host's tree is pivoted away and detached. A chroot would not
// do: a container of the pod running as the init's user may open
// /proc/1/root, and ".." from a chroot's root leads on to the host's.
//
// For a pod without a user namespace, berth makes that mount namespace
// once from a thread of its own (EnterRoot) and starts inits in it. The
// init of a user-namespaced pod must be made inside the pod's user
// namespace, by a process that is the pod's root: StartInUserNS re-executes
// berth as a helper that does it and then becomes the init.
package podinit

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Program is where the pause program is bound in the init's root.
const Program = "/pause"

// EnterRoot moves the calling thread, which must be locked to its
// goroutine, into a new mount namespace whose root is rootfs, read-only,
// with program bound read-only at Program.
func EnterRoot(rootfs, program string) error {
	return enterRoot(rootfs, func(target string) error {
		return unix.Mount(program, target, "", unix.MS_BIND, "")
	})
}

// enterRoot is EnterRoot with the pause program mounted at target by
// mountProgram, once the mount namespace is the thread's own.
func enterRoot(rootfs string, mountProgram func(target string) error) error {
	target := filepath.Join(rootfs, Program)
	steps := []struct {
		what string
		do   func() error
	}{
		// CLONE_FS: this thread's root and cwd become its own to change.
		{"unshare the mount namespace", func() error { return unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS) }},
		{"make mounts private", func() error { return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") }},
		{"bind the rootfs", func() error { return unix.Mount(rootfs, rootfs, "", unix.MS_BIND, "") }},
		{"bind the pause program", func() error { return mountProgram(target) }},
		{"make the pause program read-only", func() error { return remountReadOnly(target) }},
		{"enter the rootfs", func() error { return unix.Chdir(rootfs) }},
		{"pivot_root", func() error { return unix.PivotRoot(".", ".") }},
		{"detach the host's tree", func() error { return unix.Unmount(".", unix.MNT_DETACH) }},
		{"chdir /", func() error { return unix.Chdir("/") }},
		{"make the root read-only", func() error { return remountReadOnly("/") }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// remountReadOnly makes the bind mount at path read-only, nosuid and
// nodev. It keeps the flags the mount has: in a mount namespace a user
// namespace owns, the kernel refuses a remount that would clear a flag
// (noexec, an atime mode) locked by the namespace it was copied from.
func remountReadOnly(path string) error {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	for st, ms := range map[int64]uintptr{
		unix.ST_NOEXEC:     unix.MS_NOEXEC,
		unix.ST_NOATIME:    unix.MS_NOATIME,
		unix.ST_NODIRATIME: unix.MS_NODIRATIME,
		unix.ST_RELATIME:   unix.MS_RELATIME,
	} {
		if fs.Flags&st != 0 {
			flags |= ms
		}
	}
	return unix.Mount("", path, "", flags, "")
}
