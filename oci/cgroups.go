package oci

import (
	"path"
	"strings"

	"github.com/berth-dev/berth/config"
)

// defaultCgroupParent is used when kubelet sends none (crictl, critest).
var defaultCgroupParent = map[string]string{
	config.CgroupfsDriver: "/berth",
	config.SystemdDriver:  "berth.slice",
}

// CgroupParent checks a pod's cgroup parent against the cgroup driver and
// resolves it once, for CgroupsPath: "" is berth's default, a cgroupfs
// parent is made absolute, a path of systemd slices gives its last one.
func CgroupParent(driver, parent string) (string, error) {
	if parent == "" {
		parent = defaultCgroupParent[driver]
	}
	if driver == config.SystemdDriver {
		return systemdSlice(parent)
	}
	if strings.HasSuffix(parent, ".slice") {
		return "", invalidf("cgroup parent %q is a systemd slice but berth's cgroup_driver is cgroupfs; make kubelet's --cgroup-driver match berth's", parent)
	}
	if !path.IsAbs(parent) {
		parent = "/" + parent
	}
	for _, part := range strings.Split(parent, "/") {
		if part == ".." {
			return "", invalidf("cgroup parent %q must not contain \"..\"", parent)
		}
	}
	return path.Clean(parent), nil
}

// CgroupsPath is the OCI cgroupsPath of a process of the pod named name,
// under a parent CgroupParent resolved: a directory under the parent for
// cgroupfs, "slice:prefix:name" for the systemd driver.
func CgroupsPath(driver, parent, name string) string {
	if driver == config.SystemdDriver {
		return parent + ":berth:" + name
	}
	return path.Join(parent, "berth-"+name)
}

// systemdSlice validates a slice name ("kubepods-burstable-pod1.slice"); a
// path of slices ("/kubepods.slice/kubepods-pod1.slice") gives its last one.
func systemdSlice(parent string) (string, error) {
	slice := path.Base(parent)
	unit, ok := strings.CutSuffix(slice, ".slice")
	if !ok || unit == "" {
		return "", invalidf("cgroup parent %q is not a systemd slice (like kubepods-pod1.slice) but berth's cgroup_driver is systemd; make kubelet's --cgroup-driver match berth's", parent)
	}
	// Each "-" nests the slice in its prefix; empty parts have no parent.
	if unit != "-" {
		for _, part := range strings.Split(unit, "-") {
			if part == "" {
				return "", invalidf("cgroup parent %q is not a valid systemd slice name", parent)
			}
		}
	}
	return slice, nil
}
