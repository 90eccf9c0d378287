package container

import "github.com/berth-dev/berth/internal/cgroups"

// Stats reads the container's cgroup. A container whose cgroup is gone
// (it exited and was deleted) has zero usage.
func (m *Manager) Stats(id string) (Record, cgroups.Stats, error) {
	rec, err := m.Status(id)
	if err != nil {
		return Record{}, cgroups.Stats{}, err
	}
	return rec, m.CgroupStats(&rec), nil
}

// CgroupStats reads the usage of a container's cgroup.
func (m *Manager) CgroupStats(rec *Record) cgroups.Stats {
	return m.opts.Host.Cgroups.Stats(m.cgroupDriver(), rec.CgroupsPath)
}
