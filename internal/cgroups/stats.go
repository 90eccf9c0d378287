package cgroups

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Stats are a cgroup's resource usage.
type Stats struct {
	Timestamp time.Time
	// CPUNanos is the CPU time used, all cores, in nanoseconds.
	CPUNanos uint64
	// MemoryWorkingSet is usage minus inactive file pages, as kubelet
	// counts it for evictions.
	MemoryWorkingSet uint64
	MemoryUsage      uint64
}

// Stats reads the usage of the cgroup named by an OCI cgroupsPath (a
// record's CgroupsPath, in the driver's form). An empty path, a
// cgroup that is gone and a controller the host lacks read as zero.
//
// It reads the three numbers it reports straight from their files rather
// than through containerd's cgroup Stat, which reads every file of every
// controller on each call: ListContainerStats does this for every
// container kubelet asks about.
func (h *Host) Stats(driver Driver, cgroupsPath string) Stats {
	st := Stats{Timestamp: time.Now()}
	if cgroupsPath == "" {
		return st
	}
	p, err := Path(driver, cgroupsPath)
	if err != nil {
		logrus.WithError(err).WithField("cgroup", cgroupsPath).Debug("container stats: no cgroup path")
		return st
	}
	var inactiveFile uint64
	if h.Mode() == Unified {
		if dir, ok := h.Dir("cpu", p); ok {
			st.CPUNanos = statField(filepath.Join(dir, "cpu.stat"), "usage_usec") * 1000
		}
		if dir, ok := h.Dir("memory", p); ok {
			st.MemoryUsage = readUint(filepath.Join(dir, "memory.current"))
			inactiveFile = statField(filepath.Join(dir, "memory.stat"), "inactive_file")
		}
	} else {
		if dir, ok := h.Dir("cpuacct", p); ok {
			st.CPUNanos = readUint(filepath.Join(dir, "cpuacct.usage"))
		}
		if dir, ok := h.Dir("memory", p); ok {
			st.MemoryUsage = readUint(filepath.Join(dir, "memory.usage_in_bytes"))
			// total_ counts the cgroup's descendants too, as usage does.
			inactiveFile = statField(filepath.Join(dir, "memory.stat"), "total_inactive_file")
		}
	}
	st.MemoryWorkingSet = workingSet(st.MemoryUsage, inactiveFile)
	return st
}

// readUint reads a file holding one number; a missing or odd file is 0.
func readUint(path string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	return v
}

// statField reads one "key value" line of a stat file; 0 when absent.
func statField(path, key string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), " ")
		if ok && k == key {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

func workingSet(usage, inactiveFile uint64) uint64 {
	if inactiveFile > usage {
		return 0
	}
	return usage - inactiveFile
}
