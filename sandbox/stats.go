package sandbox

import (
	"errors"
	"time"

	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/proc"
)

// Stats are what a pod uses beyond its containers' own numbers.
type Stats struct {
	// Cgroup is the usage of the pod's cgroup when it has one of its own
	// (OwnCgroup: kubelet gave it a cgroup parent, which holds its
	// containers too); otherwise of its pause process alone.
	Cgroup    cgroups.Stats
	OwnCgroup bool
	// CPUNanoCores is the pod cgroup's CPU rate since its last stats
	// (HasCPURate false on the first, or without a cgroup of its own).
	CPUNanoCores uint64
	HasCPURate   bool
	// Network is the counters of the pod's interfaces; nil for a pod on
	// the host's network, or one whose pause process is gone.
	Network   []proc.NetDev
	NetworkAt time.Time
}

// Stats reads a pod's cgroup and network counters.
func (m *Manager) Stats(id string) (Record, Stats, error) {
	rec, err := m.Status(id)
	if err != nil {
		return Record{}, Stats{}, err
	}
	return rec, m.StatsOf(&rec), nil
}

// StatsOf is Stats for a record in hand.
func (m *Manager) StatsOf(rec *Record) Stats {
	driver := cgroups.Driver(m.opts.CgroupDriver)
	var st Stats
	if rec.Config.CgroupParent != "" && rec.CgroupParent != "" {
		st.Cgroup, st.OwnCgroup = m.opts.Host.Cgroups.ParentStats(driver, rec.CgroupParent), true
		st.CPUNanoCores, st.HasCPURate = m.cpuRates.Rate(rec.ID, st.Cgroup.CPUNanos, st.Cgroup.Timestamp)
	} else {
		st.Cgroup = m.opts.Host.Cgroups.Stats(driver, rec.CgroupsPath)
	}
	if rec.NetNS != "" && rec.State == Ready {
		if devs, err := m.netDevs(rec); err == nil {
			st.Network, st.NetworkAt = devs, time.Now()
		}
	}
	return st
}

// netDevs reads the counters of a ready pod's interfaces: through its
// pause process's /proc entry, or for a pod with no process of its own
// from a thread that joins its netns.
func (m *Manager) netDevs(rec *Record) ([]proc.NetDev, error) {
	if rec.PausePID > 0 {
		if !m.pauseAlive(rec) {
			return nil, errors.New("pause process gone")
		}
		return proc.NetDevs(rec.PausePID)
	}
	var devs []proc.NetDev
	err := inNamespaces("", map[string]string{"net": rec.NetNS}, func() (err error) {
		devs, err = proc.ThreadNetDevs()
		return err
	})
	return devs, err
}
