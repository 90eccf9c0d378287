package container

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/spec"
)

// UpdateResources changes a created or running container's resources in
// place (kubelet's in-place resize) and records them for ContainerStatus.
func (m *Manager) UpdateResources(ctx context.Context, id string, res spec.Resources) error {
	c, err := m.Get(id)
	if err != nil {
		return err
	}
	if err := m.lockOp(c); err != nil {
		return err
	}
	defer c.op.Unlock()
	rec := c.Snapshot()
	if rec.State == Exited {
		return fmt.Errorf("%w: container %s has exited", ErrNotRunning, rec.ID)
	}
	rt, err := m.opts.Runtimes.Get(rec.Handler)
	if err != nil {
		return err
	}
	resources, err := m.opts.Host.LinuxResources(res, logrus.WithFields(logrus.Fields{"container": rec.ID, "cgroup": rec.CgroupsPath}))
	if err != nil {
		return err
	}
	data, err := json.Marshal(resources)
	if err != nil {
		return err
	}
	if err := rt.Update(ctx, rec.ID, data); err != nil {
		return err
	}
	c.update(func(r *Record) { r.Resources = &res })
	return m.persist(c)
}
