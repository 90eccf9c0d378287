package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Enter moves process pid into the cgroup of an OCI cgroupsPath, making it
// in every hierarchy first, as a runtime does for a process it starts. It is
// for the few processes berth starts itself (a pod's init), not through a
// runtime. A v1 cpuset cgroup made here gets its parent's CPUs and memory
// nodes, without which the kernel takes no process into it.
func (h *Host) Enter(driver Driver, cgroupsPath string, pid int) error {
	p, err := Path(driver, cgroupsPath)
	if err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("cgroup %q is the root of the hierarchy", cgroupsPath)
	}
	procs := []byte(strconv.Itoa(pid))
	for _, mp := range h.hierarchies {
		dir := filepath.Join(mp, p)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("make cgroup: %w", err)
		}
		if h.mode == Legacy && h.mounts["cpuset"] == mp {
			if err := inheritCpuset(mp, p); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), procs, 0o644); err != nil {
			return fmt.Errorf("move process %d into cgroup %s: %w", pid, dir, err)
		}
	}
	return nil
}

// inheritCpuset fills the empty cpuset.cpus and cpuset.mems of each level
// of p below the cpuset hierarchy's root mp from the level above it.
func inheritCpuset(mp, p string) error {
	dir := mp
	for _, elem := range strings.Split(strings.Trim(p, "/"), "/") {
		parent := dir
		dir = filepath.Join(dir, elem)
		for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
			own, err := os.ReadFile(filepath.Join(dir, file))
			if errors.Is(err, os.ErrNotExist) || err == nil && strings.TrimSpace(string(own)) != "" {
				continue // a hierarchy mounted with noprefix, or already set
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", file, err)
			}
			inherited, err := os.ReadFile(filepath.Join(parent, file))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, file), inherited, 0o644)
			}
			if err != nil {
				return fmt.Errorf("set %s of %s from its parent: %w", file, dir, err)
			}
		}
	}
	return nil
}
