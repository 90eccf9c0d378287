package spec

import (
	"fmt"

	"github.com/berth-dev/berth/internal/cgroups"
)

// Host is what the host offers containers, probed once at start-up and
// handed to Build: capabilities, cgroup controllers, seccomp architectures
// and kernel, AppArmor, and the lowest OOM score the runtime may set.
type Host struct {
	// Capabilities is berth's own bounding set ("CAP_CHOWN" ...): what the
	// runtime can grant. A privileged container gets all of them.
	Capabilities []string
	// Cgroups is what the host's cgroups offer: resources it cannot set
	// are left out of the spec.
	Cgroups *cgroups.Host
	// MinOOMScoreAdj is the lowest OOM score adjustment the runtime may set
	// (oci.MinOOMScoreAdj); lower asks are raised to it.
	MinOOMScoreAdj int
	AppArmor       AppArmor
	// CDI resolves the CDI devices containers ask for; nil when off.
	CDI *CDI
	// Hooks are the OCI hooks of hooks.d; nil when there are none.
	Hooks *Hooks

	seccomp seccompHost
}

// Probe reads the host's capabilities, seccomp architectures, kernel
// version and AppArmor state, to go with its cgroups and OOM score floor.
func Probe(cg *cgroups.Host, minOOMScoreAdj int) (*Host, error) {
	if cg == nil {
		return nil, fmt.Errorf("spec: no cgroup host facts (cgroups.Probe)")
	}
	return &Host{
		Capabilities:   boundingCapabilities(),
		Cgroups:        cg,
		MinOOMScoreAdj: minOOMScoreAdj,
		AppArmor:       probeAppArmor(appArmorEnabledFile, appArmorProfilesFile),
		seccomp:        probeSeccompHost(),
	}, nil
}

// ClampOOMScoreAdj is want, raised to the lowest score the runtime may set.
func (h *Host) ClampOOMScoreAdj(want int) int { return max(want, h.MinOOMScoreAdj) }

// Facts are what the probes found, as `crictl info` shows them.
type Facts struct {
	CgroupVersion        string   `json:"cgroup_version"`
	CgroupControllers    []string `json:"cgroup_controllers"`
	SwapAccounting       bool     `json:"swap_accounting"`
	Kernel               string   `json:"kernel,omitempty"`
	SeccompArchitectures []string `json:"seccomp_architectures"`
	AppArmor             bool     `json:"apparmor"`
	Capabilities         []string `json:"capabilities"`
	MinOOMScoreAdj       int      `json:"min_oom_score_adj"`
	CDISpecDirs          []string `json:"cdi_spec_dirs"`
	// CDIDevices are the devices the CDI specs define; CDIErrors what
	// does not load.
	CDIDevices []string `json:"cdi_devices"`
	CDIErrors  string   `json:"cdi_errors,omitempty"`
}

// Facts reports the host's probed facts.
func (h *Host) Facts() Facts {
	f := Facts{
		CgroupVersion:     h.Cgroups.Mode().String(),
		CgroupControllers: h.Cgroups.Controllers(),
		SwapAccounting:    h.Cgroups.SwapAccounting(),
		AppArmor:          h.AppArmor.Enabled,
		Capabilities:      h.Capabilities,
		MinOOMScoreAdj:    h.MinOOMScoreAdj,
		CDISpecDirs:       []string{},
		CDIDevices:        []string{},
	}
	if k := h.seccomp.kernel; k.known() {
		f.Kernel = fmt.Sprintf("%d.%d", k.version, k.major)
	}
	for _, a := range h.seccomp.arches {
		f.SeccompArchitectures = append(f.SeccompArchitectures, string(a))
	}
	if h.CDI != nil {
		f.CDISpecDirs = h.CDI.dirs
		if err := h.CDI.cache.Refresh(); err != nil {
			f.CDIErrors = err.Error()
		}
		f.CDIDevices = h.CDI.cache.ListDevices()
	}
	return f
}
