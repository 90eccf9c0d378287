package spec

import (
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
	"github.com/sirupsen/logrus"
)

// setResources applies the resources to the spec: CPU, cpuset, memory and
// swap, hugepages, the OOM score (clamped) and unified, then leaves out
// what the host's cgroups cannot set (logged on log), so that a missing
// controller never fails the container.
func (h *Host) setResources(g *generate.Generator, r *Resources, log logrus.FieldLogger) {
	if r == nil {
		return
	}
	if v := r.CPUShares; v > 0 {
		g.SetLinuxResourcesCPUShares(uint64(v))
	}
	if v := r.CPUQuota; v != 0 {
		g.SetLinuxResourcesCPUQuota(v)
	}
	if v := r.CPUPeriod; v > 0 {
		g.SetLinuxResourcesCPUPeriod(uint64(v))
	}
	if v := r.CpusetCpus; v != "" {
		g.SetLinuxResourcesCPUCpus(v)
	}
	if v := r.CpusetMems; v != "" {
		g.SetLinuxResourcesCPUMems(v)
	}
	if v := r.MemoryLimit; v > 0 {
		g.SetLinuxResourcesMemoryLimit(v)
		swap := r.MemorySwapLimit
		if swap <= 0 {
			swap = v // no swap beyond the limit unless asked
		}
		// Without swap accounting the filter takes it out again.
		g.SetLinuxResourcesMemorySwap(swap)
	}
	for _, l := range r.Hugepages {
		g.AddLinuxResourcesHugepageLimit(l.PageSize, l.Limit)
	}
	g.SetProcessOOMScoreAdj(h.ClampOOMScoreAdj(int(r.OOMScoreAdj)))
	if len(r.Unified) > 0 {
		g.SetLinuxResourcesUnified(r.Unified)
	}
	h.Cgroups.Filter(g.Config.Linux.Resources, log)
}

// LinuxResources translates resources into OCI ones for an update of a
// running container or a pod's cgroup, without those the host's cgroups
// cannot set (each controller left out is logged on log).
func (h *Host) LinuxResources(r Resources, log logrus.FieldLogger) (*rspec.LinuxResources, error) {
	g, err := generate.New("linux")
	if err != nil {
		return nil, err
	}
	g.Config.Linux.Resources = &rspec.LinuxResources{}
	h.setResources(&g, &r, log)
	return g.Config.Linux.Resources, nil
}
