package cgroups

import (
	"maps"
	"slices"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// Filter removes from r the limits this host cannot set, so that the OCI
// runtime does not fail the container over a controller that is not there
// (runc refuses a spec asking for hugetlb limits without a hugetlb
// hierarchy). Each controller left out is logged once, at debug level, on
// log, which names the container or cgroup. Devices are never removed:
// they are the container's security, not a limit.
func (h *Host) Filter(r *rspec.LinuxResources, log logrus.FieldLogger) {
	if r == nil {
		return
	}
	drop := func(controller string, what ...string) {
		log.WithFields(logrus.Fields{"controller": controller, "dropped": what}).
			Debug("cgroup controller not available on this host; leaving its limits out")
	}

	if len(r.HugepageLimits) > 0 && !h.Has("hugetlb") {
		sizes := make([]string, len(r.HugepageLimits))
		for i, l := range r.HugepageLimits {
			sizes[i] = "hugepages-" + l.Pagesize
		}
		drop("hugetlb", sizes...)
		r.HugepageLimits = nil
	}

	if cpu := r.CPU; cpu != nil {
		dropped := false
		if what := cpuFields(cpu); len(what) > 0 && !h.Has("cpu") {
			drop("cpu", what...)
			cpu = &rspec.LinuxCPU{Cpus: cpu.Cpus, Mems: cpu.Mems}
			dropped = true
		}
		if what := nonEmpty("cpus", cpu.Cpus, "mems", cpu.Mems); len(what) > 0 && !h.Has("cpuset") {
			drop("cpuset", what...)
			cpu.Cpus, cpu.Mems = "", ""
			dropped = true
		}
		if dropped {
			r.CPU = cpu
			if *cpu == (rspec.LinuxCPU{}) {
				r.CPU = nil
			}
		}
	}

	if r.Memory != nil {
		switch {
		case !h.Has("memory"):
			drop("memory", "memory")
			r.Memory = nil
		case r.Memory.Swap != nil && !h.SwapAccounting():
			// A v1 kernel booted without swap accounting has no
			// memory.memsw files to write.
			drop("memory", "swap")
			r.Memory.Swap = nil
		}
	}

	if r.Pids != nil && !h.Has("pids") {
		drop("pids", "pids")
		r.Pids = nil
	}

	if r.BlockIO != nil {
		blkio := "blkio"
		if h.mode == Unified {
			blkio = "io"
		}
		if !h.Has(blkio) {
			drop(blkio, "blockIO")
			r.BlockIO = nil
		}
	}

	if len(r.Unified) > 0 {
		// Unified keys are cgroup v2 files: on v1 the runtime refuses them.
		if h.mode != Unified {
			drop("unified", slices.Sorted(maps.Keys(r.Unified))...)
			r.Unified = nil
		} else {
			missing := map[string][]string{}
			for key := range r.Unified {
				c, _, _ := strings.Cut(key, ".")
				// "cgroup.*" files are the core interface of every cgroup,
				// not a controller's.
				if c != "cgroup" && !h.Has(c) {
					missing[c] = append(missing[c], key)
				}
			}
			for _, c := range slices.Sorted(maps.Keys(missing)) {
				keys := missing[c]
				slices.Sort(keys)
				drop(c, keys...)
				for _, k := range keys {
					delete(r.Unified, k)
				}
			}
			if len(r.Unified) == 0 {
				r.Unified = nil
			}
		}
	}
}

// cpuFields names the cpu controller's fields set in c.
func cpuFields(c *rspec.LinuxCPU) []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"shares", c.Shares != nil},
		{"quota", c.Quota != nil},
		{"burst", c.Burst != nil},
		{"period", c.Period != nil},
		{"realtimeRuntime", c.RealtimeRuntime != nil},
		{"realtimePeriod", c.RealtimePeriod != nil},
		{"idle", c.Idle != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// nonEmpty returns the names (of name, value pairs) whose value is set.
func nonEmpty(pairs ...string) []string {
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			out = append(out, pairs[i])
		}
	}
	return out
}
