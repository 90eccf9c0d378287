package oci

import (
	"github.com/opencontainers/runtime-tools/generate"
	"github.com/sirupsen/logrus"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/cgroups"
)

// setResources applies the CRI resources to the spec: CPU, cpuset, memory
// and swap, hugepages, the OOM score (clamped) and unified, then leaves out
// what the host's cgroups cannot set (logged on log), so that a missing
// controller never fails the container.
func setResources(g *generate.Generator, r *runtimeapi.LinuxContainerResources, host *cgroups.Host, log logrus.FieldLogger) {
	if r == nil {
		return
	}
	if v := r.GetCpuShares(); v > 0 {
		g.SetLinuxResourcesCPUShares(uint64(v))
	}
	if v := r.GetCpuQuota(); v != 0 {
		g.SetLinuxResourcesCPUQuota(v)
	}
	if v := r.GetCpuPeriod(); v > 0 {
		g.SetLinuxResourcesCPUPeriod(uint64(v))
	}
	if v := r.GetCpusetCpus(); v != "" {
		g.SetLinuxResourcesCPUCpus(v)
	}
	if v := r.GetCpusetMems(); v != "" {
		g.SetLinuxResourcesCPUMems(v)
	}
	if v := r.GetMemoryLimitInBytes(); v > 0 {
		g.SetLinuxResourcesMemoryLimit(v)
		swap := r.GetMemorySwapLimitInBytes()
		if swap <= 0 {
			swap = v // no swap beyond the limit unless asked
		}
		// Without swap accounting the filter takes it out again.
		g.SetLinuxResourcesMemorySwap(swap)
	}
	for _, h := range r.GetHugepageLimits() {
		g.AddLinuxResourcesHugepageLimit(h.GetPageSize(), h.GetLimit())
	}
	g.SetProcessOOMScoreAdj(ClampOOMScoreAdj(int(r.GetOomScoreAdj())))
	if len(r.GetUnified()) > 0 {
		g.SetLinuxResourcesUnified(r.GetUnified())
	}
	host.Filter(g.Config.Linux.Resources, log)
}
