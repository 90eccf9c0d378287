package cgroups

import (
	"fmt"
	"path"
	"strings"

	"github.com/opencontainers/cgroups/systemd"
)

// Driver is how cgroups are named and made: the values of berth's
// cgroup_driver setting.
type Driver string

const (
	// Cgroupfs names a cgroup by its path in every hierarchy.
	Cgroupfs Driver = "cgroupfs"
	// Systemd names a cgroup by a unit in a slice; the runtime asks systemd
	// to make it.
	Systemd Driver = "systemd"
)

// defaultSlice is where runc puts a systemd cgroupsPath with no slice.
const defaultSlice = "system.slice"

// Path is where the cgroup of an OCI cgroupsPath lives inside each
// hierarchy, as an absolute path from the hierarchy's root. With cgroupfs
// that is the path itself; with systemd, "slice:prefix:name" is the unit
// "prefix-name.scope" under the slice's nested directories, as runc makes
// it: "kubepods-pod1.slice:berth:abc" is
// "/kubepods.slice/kubepods-pod1.slice/berth-abc.scope".
func Path(driver Driver, cgroupsPath string) (string, error) {
	switch driver {
	case Cgroupfs:
		return cgroupfsPath(cgroupsPath)
	case Systemd:
		parts := strings.Split(cgroupsPath, ":")
		if len(parts) != 3 || parts[2] == "" {
			return "", fmt.Errorf("systemd cgroupsPath %q is not \"slice:prefix:name\"", cgroupsPath)
		}
		slice, prefix, name := parts[0], parts[1], parts[2]
		if slice == "" {
			slice = defaultSlice
		}
		dir, err := systemd.ExpandSlice(slice)
		if err != nil {
			return "", err
		}
		// runc makes a scope unless the name is itself a slice.
		unit := name
		if !strings.HasSuffix(name, ".slice") {
			unit = prefix + "-" + name + ".scope"
		}
		return path.Join(dir, unit), nil
	}
	return "", fmt.Errorf("unknown cgroup driver %q", driver)
}

// ParentPath is where a pod's cgroup parent, as kubelet names it, lives
// inside each hierarchy: a path with cgroupfs ("/kubepods/burstable/pod1"),
// a slice with systemd ("kubepods-burstable-pod1.slice", or a path whose
// last element is the slice) expanded into its nested directories.
func ParentPath(driver Driver, parent string) (string, error) {
	switch driver {
	case Cgroupfs:
		if !path.IsAbs(parent) {
			parent = "/" + parent
		}
		return cgroupfsPath(parent)
	case Systemd:
		// Each "-" nests a slice in the one its prefix names:
		// "a-b-c.slice" is "/a.slice/a-b.slice/a-b-c.slice".
		return systemd.ExpandSlice(path.Base(parent))
	}
	return "", fmt.Errorf("unknown cgroup driver %q", driver)
}

// cgroupfsPath checks a cgroupfs path: absolute and without "..", which
// would reach outside the hierarchy.
func cgroupfsPath(p string) (string, error) {
	if !path.IsAbs(p) {
		return "", fmt.Errorf("cgroupfs cgroupsPath %q is not absolute", p)
	}
	for part := range strings.SplitSeq(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("cgroup path %q must not contain \"..\"", p)
		}
	}
	return path.Clean(p), nil
}
