package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// The main goroutine keeps the main thread (a LockOSThread in an init
// lasts into main), so no goroutine of this package ever runs there. Each
// one that moves its thread into a pod's namespaces ends without unlocking
// it, and the Go runtime throws such a thread away; but the main thread is
// never thrown away, only parked, still in the pod's namespaces, and
// /proc/self (the main thread's) would show them to the whole process.
func init() { runtime.LockOSThread() }

// podNamespaces names the namespaces berth pins for a pod whose
// namespaces it holds itself (Holder berth) and its containers join: the
// PID namespace only when they share it, as it takes an init.
func podNamespaces(ns Namespaces) []string {
	var kinds []string
	if !ns.HostNetwork {
		kinds = append(kinds, "uts")
	}
	if !ns.HostIPC {
		kinds = append(kinds, "ipc")
	}
	if ns.SharedPID && !ns.HostPID {
		kinds = append(kinds, "pid")
	}
	if ns.UserNS != nil {
		kinds = append(kinds, "user")
	}
	return kinds
}

// pauseNamespaces names the namespaces a pause process the runtime runs
// creates for the pod and its containers join (UTS goes with the pod's
// network).
func pauseNamespaces(ns Namespaces) []string {
	var kinds []string
	if !ns.HostNetwork {
		kinds = append(kinds, "uts")
	}
	if !ns.HostIPC {
		kinds = append(kinds, "ipc")
	}
	// A container may ask for the pod's PID namespace even when the pod
	// does not share it by default (NamespaceMode POD on the container).
	if !ns.HostPID {
		kinds = append(kinds, "pid")
	}
	if ns.UserNS != nil {
		kinds = append(kinds, "user")
	}
	return kinds
}

// pinPaths are where the pause process's namespaces are pinned, by kind.
func pinPaths(nsDir, id string, kinds []string) map[string]string {
	if len(kinds) == 0 {
		return nil
	}
	paths := make(map[string]string, len(kinds))
	for _, kind := range kinds {
		paths[kind] = filepath.Join(nsDir, id+"-"+kind)
	}
	return paths
}

// pinProcessNamespaces bind-mounts /proc/<pid>/ns/<kind> at each path.
// Containers join the pins, never /proc/<pid>/ns: once pause is gone its
// pid may name another process, whose namespaces a container would join.
func pinProcessNamespaces(pid int, paths map[string]string) error {
	for kind, path := range paths {
		if err := pinFile(fmt.Sprintf("/proc/%d/ns/%s", pid, kind), path); err != nil {
			return fmt.Errorf("pin %s namespace of pause process %d: %w", kind, pid, err)
		}
	}
	return nil
}

// pinFile bind-mounts a namespace file at path, which it creates.
func pinFile(nsFile, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	if err := unix.Mount(nsFile, path, "none", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// unpinNamespaces unmounts and removes every pin; ones already gone (or
// never made) are fine.
func unpinNamespaces(paths map[string]string) error {
	var errs []error
	for _, path := range paths {
		errs = append(errs, unpinNS(path))
	}
	return errors.Join(errs...)
}

// unpinNS unmounts and removes a pin; one already gone is fine.
func unpinNS(path string) error {
	if path == "" {
		return nil
	}
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount namespace pin %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// inNamespaces runs fn on a thread of its own that has joined the mount
// namespace pinned at mountNS (if not "") and then each namespace pinned
// at joins, by kind. A sysctl of a pod's namespaces, its network
// counters, or a process started there all belong to the namespaces of the
// thread at work. The thread is never used again.
func inNamespaces(mountNS string, joins map[string]string, fn func() error) error {
	// Every pin is opened here: once in another mount namespace, the
	// thread no longer sees the host's paths.
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	open := func(kind, path string) error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("open %s namespace: %w", kind, err)
		}
		files = append(files, f)
		return nil
	}
	if mountNS != "" {
		if err := open("mnt", mountNS); err != nil {
			return err
		}
	}
	for kind, path := range joins {
		if err := open(kind, path); err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	go func() {
		// Never unlocked: when the goroutine ends the Go runtime throws the
		// thread away instead of reusing it in the pod's namespaces.
		runtime.LockOSThread()
		if mountNS != "" {
			// Its own root and cwd, so that joining a mount namespace
			// (which needs them unshared) moves this thread alone.
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				done <- fmt.Errorf("unshare fs: %w", err)
				return
			}
		}
		for _, f := range files {
			if err := unix.Setns(int(f.Fd()), 0); err != nil {
				done <- fmt.Errorf("join namespace %s: %w", f.Name(), err)
				return
			}
		}
		done <- fn()
	}()
	return <-done
}
