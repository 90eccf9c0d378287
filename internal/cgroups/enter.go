package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A pod's init, one of the few processes berth starts itself and not
// through a runtime, is born in its cgroup rather than moved there: on
// cgroup v1 moving a process takes a kernel-wide lock whose first taking
// waits for an RCU grace period (8 to 30 ms on this kind of machine), and
// stalls every fork on the host meanwhile. A thread that moves itself
// alone skips that lock, and a child it starts is born where it is; in a v2
// hierarchy the child is cloned into its cgroup (CLONE_INTO_CGROUP).

// Birthplace is a cgroup opened for a process to be born in: its v1
// hierarchies' tasks files, for the starting thread to move itself into,
// and its dir in the v2 hierarchy, for the clone.
type Birthplace struct {
	tasks []*os.File
	v2    *os.File
}

// OpenBirthplace makes the cgroup of an OCI cgroupsPath in every hierarchy,
// as a runtime does for a process it starts, and opens it. A v1 cpuset
// cgroup made here gets its parent's CPUs and memory nodes, without which
// the kernel takes no task into it. The files stay usable from any mount
// namespace.
func (h *Host) OpenBirthplace(driver Driver, cgroupsPath string) (b *Birthplace, err error) {
	p, err := Path(driver, cgroupsPath)
	if err != nil {
		return nil, err
	}
	if p == "/" {
		return nil, fmt.Errorf("cgroup %q is the root of the hierarchy", cgroupsPath)
	}
	b = &Birthplace{}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	for _, mp := range h.hierarchies {
		dir := filepath.Join(mp, p)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("make cgroup: %w", err)
		}
		if mp == h.v2 {
			if b.v2, err = os.Open(dir); err != nil {
				return nil, err
			}
			continue
		}
		if h.mounts["cpuset"] == mp {
			if err := inheritCpuset(mp, p); err != nil {
				return nil, err
			}
		}
		f, err := os.OpenFile(filepath.Join(dir, "tasks"), os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		b.tasks = append(b.tasks, f)
	}
	return b, nil
}

// EnterThread moves the calling thread alone into the cgroup in every v1
// hierarchy. The thread must be locked to its goroutine and never reused
// (the Go runtime would run other goroutines in the cgroup), and not be
// the main thread, which the runtime never throws away.
func (b *Birthplace) EnterThread() error {
	for _, f := range b.tasks {
		// "0" is the writing thread.
		if _, err := f.Write([]byte("0")); err != nil {
			return fmt.Errorf("move a thread into cgroup %s: %w", filepath.Dir(f.Name()), err)
		}
	}
	return nil
}

// CgroupFD is the cgroup's dir in the v2 hierarchy, for a clone into it
// (syscall.SysProcAttr's CgroupFD, with UseCgroupFD); ok is false on a host
// without a v2 hierarchy.
func (b *Birthplace) CgroupFD() (fd int, ok bool) {
	if b.v2 == nil {
		return -1, false
	}
	return int(b.v2.Fd()), true
}

// Close closes the cgroup's files; a nil Birthplace has none.
func (b *Birthplace) Close() {
	if b == nil {
		return
	}
	for _, f := range b.tasks {
		f.Close()
	}
	if b.v2 != nil {
		b.v2.Close()
	}
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
