package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	ocgroups "github.com/opencontainers/cgroups"
)

// Remove kills what is left in the cgroup of an OCI cgroupsPath and
// removes it, with its sub-cgroups, from every hierarchy. A runtime's delete
// does this for a container it knows; this is for one it lost: a create
// killed between making the cgroup and saving its state (berth died while
// it ran) leaves a cgroup that `delete` no longer finds. A cgroup that is
// not there is not an error.
func (h *Host) Remove(driver Driver, cgroupsPath string) error {
	if cgroupsPath == "" {
		return nil
	}
	p, err := Path(driver, cgroupsPath)
	if err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("cgroup %q is the root of the hierarchy", cgroupsPath)
	}
	var dirs []string
	for _, mp := range h.hierarchies {
		dir := filepath.Join(mp, p)
		if _, err := os.Stat(dir); err == nil {
			dirs = append(dirs, dir)
		}
	}
	// Every hierarchy lists the same processes; all are killed before
	// any rmdir, which fails while one is left.
	for _, dir := range dirs {
		if err := killProcs(dir); err != nil {
			return err
		}
	}
	var errs []error
	for _, dir := range dirs {
		// RemovePath removes sub-cgroups first and retries while the
		// killed processes finish exiting.
		if err := ocgroups.RemovePath(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup: %w", err))
		}
	}
	return errors.Join(errs...)
}

// killProcs SIGKILLs every process in the cgroup at dir and below it.
func killProcs(dir string) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			return nil // gone meanwhile, or a hierarchy without the file
		}
		for _, field := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(field)
			if err != nil || pid <= 1 || pid == os.Getpid() {
				continue
			}
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("kill process %d left in cgroup %s: %w", pid, p, err)
			}
		}
		return nil
	})
}
