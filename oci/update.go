package oci

import (
	"context"
	"encoding/json"
	"fmt"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
	"github.com/sirupsen/logrus"
	"google.golang.org/protobuf/encoding/protojson"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/cgroups"
)

// UpdateResources changes a created or running container's resources in
// place (kubelet's in-place resize) and records them for ContainerStatus.
func (m *Manager) UpdateResources(ctx context.Context, id string, res *runtimeapi.LinuxContainerResources) error {
	c, err := m.Get(id)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	rec := c.Snapshot()
	if rec.State == Exited {
		return fmt.Errorf("%w: container %s has exited", ErrNotRunning, rec.ID)
	}
	rt, err := m.runtime(rec.Handler)
	if err != nil {
		return err
	}
	resources, err := LinuxResources(res, m.opts.Cgroups, logrus.WithFields(logrus.Fields{"container": rec.ID, "cgroup": rec.CgroupsPath}))
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
	saved, err := protojson.Marshal(res)
	if err != nil {
		return err
	}
	rec = c.update(func(r *Record) { r.Resources = saved })
	return m.save(rec)
}

// LinuxResources translates CRI resources into OCI ones, without those the
// host's cgroups cannot set (each controller left out is logged on log).
func LinuxResources(res *runtimeapi.LinuxContainerResources, host *cgroups.Host, log logrus.FieldLogger) (*rspec.LinuxResources, error) {
	g, err := generate.New("linux")
	if err != nil {
		return nil, err
	}
	g.Config.Linux.Resources = &rspec.LinuxResources{}
	setResources(&g, res, host, log)
	return g.Config.Linux.Resources, nil
}
