package oci

import (
	"os"
	"sync"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-tools/generate"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// setResources applies the CRI resources to the spec: CPU, cpuset, memory
// and swap, hugepages, the OOM score (clamped) and, on cgroup v2, unified.
func setResources(g *generate.Generator, r *runtimeapi.LinuxContainerResources) {
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
		if swapAccounting() {
			g.SetLinuxResourcesMemorySwap(swap)
		}
	}
	for _, h := range r.GetHugepageLimits() {
		g.AddLinuxResourcesHugepageLimit(h.GetPageSize(), h.GetLimit())
	}
	g.SetProcessOOMScoreAdj(ClampOOMScoreAdj(int(r.GetOomScoreAdj())))
	if len(r.GetUnified()) > 0 && cgroups.IsCgroup2UnifiedMode() {
		g.SetLinuxResourcesUnified(r.GetUnified())
	}
}

// swapAccounting says whether the host can limit memory+swap (cgroup v1
// needs swapaccount; v2 always can).
var swapAccounting = sync.OnceValue(func() bool {
	if cgroups.IsCgroup2UnifiedMode() {
		return true
	}
	_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
	return err == nil
})
