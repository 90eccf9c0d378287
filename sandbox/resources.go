package sandbox

import (
	"fmt"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/config"
)

// UpdateResources applies pod-level resources to the pod's cgroup parent
// (the cgroup kubelet made for the pod). A pod without a cgroup parent of
// its own has no pod cgroup to change.
func (m *Manager) UpdateResources(id string, res *rspec.LinuxResources) error {
	sb, err := m.Get(id)
	if err != nil {
		return err
	}
	parent := sb.Snapshot().Config.CgroupParent
	if parent == "" {
		return invalidf("pod %s has no cgroup parent of its own to update", id)
	}
	if m.opts.CgroupDriver == config.SystemdDriver {
		return invalidf("updating pod resources through systemd is not supported; use the cgroupfs driver")
	}
	if cgroups.Mode() == cgroups.Unified {
		cg, err := cgroup2.Load(parent)
		if err != nil {
			return fmt.Errorf("pod cgroup %s: %w", parent, err)
		}
		return cg.Update(cgroup2.ToResources(res))
	}
	cg, err := cgroup1.Load(cgroup1.StaticPath(parent))
	if err != nil {
		return fmt.Errorf("pod cgroup %s: %w", parent, err)
	}
	return cg.Update(res)
}
