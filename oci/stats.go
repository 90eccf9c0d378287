package oci

import (
	"time"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
)

// Stats are a container's resource usage, read from its cgroup.
type Stats struct {
	Timestamp time.Time
	// CPUNanos is the CPU time used, all cores, in nanoseconds.
	CPUNanos uint64
	// MemoryWorkingSet is usage minus inactive file pages, as kubelet
	// counts it for evictions.
	MemoryWorkingSet uint64
	MemoryUsage      uint64
}

// Stats reads the container's cgroup. A container whose cgroup is gone
// (it exited and was deleted) has zero usage.
func (m *Manager) Stats(id string) (Record, Stats, error) {
	c, err := m.Get(id)
	if err != nil {
		return Record{}, Stats{}, err
	}
	rec := c.Snapshot()
	return rec, CgroupStats(rec.CgroupsPath), nil
}

// CgroupStats reads the usage of the cgroup at path (a record's
// CgroupsPath); an empty or missing one reads as zero.
func CgroupStats(path string) Stats {
	st := Stats{Timestamp: time.Now()}
	if path == "" {
		return st
	}
	if cgroups.Mode() == cgroups.Unified {
		cg, err := cgroup2.Load(path)
		if err != nil {
			return st
		}
		m, err := cg.Stat()
		if err != nil {
			return st
		}
		st.CPUNanos = m.GetCPU().GetUsageUsec() * 1000
		st.MemoryUsage = m.GetMemory().GetUsage()
		st.MemoryWorkingSet = workingSet(st.MemoryUsage, m.GetMemory().GetInactiveFile())
		return st
	}
	cg, err := cgroup1.Load(cgroup1.StaticPath(path))
	if err != nil {
		return st
	}
	m, err := cg.Stat(cgroup1.IgnoreNotExist)
	if err != nil {
		return st
	}
	st.CPUNanos = m.GetCPU().GetUsage().GetTotal()
	st.MemoryUsage = m.GetMemory().GetUsage().GetUsage()
	st.MemoryWorkingSet = workingSet(st.MemoryUsage, m.GetMemory().GetTotalInactiveFile())
	return st
}

func workingSet(usage, inactiveFile uint64) uint64 {
	if inactiveFile > usage {
		return 0
	}
	return usage - inactiveFile
}
