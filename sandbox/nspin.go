package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// pauseNamespaces names the namespaces the pause process creates for the
// pod and its containers join (UTS goes with the pod's network).
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
