package spec

// Container is what a container's OCI spec is made from, on top of its
// image's config, its pod and the host: the CRI ContainerConfig as plain Go,
// translated by the server. It is stored with the container's record.
type Container struct {
	// Command replaces the image's entrypoint (and drops its cmd); Args
	// replace the image's cmd.
	Command    []string `json:"command,omitempty"`
	Args       []string `json:"args,omitempty"`
	WorkingDir string   `json:"working_dir,omitempty"`
	Env        []EnvVar `json:"env,omitempty"`
	Tty        bool     `json:"tty,omitempty"`
	Mounts     []Mount  `json:"mounts,omitempty"`
	Devices    []Device `json:"devices,omitempty"`
	// CDIDevices are fully qualified CDI device names
	// ("vendor.com/class=name") resolved from the node's CDI specs.
	CDIDevices []string   `json:"cdi_devices,omitempty"`
	Resources  *Resources `json:"resources,omitempty"`
	Security   Security   `json:"security"`
	// Annotations go into the OCI spec as they are.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// EnvVar is one environment variable.
type EnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Propagation is a bind mount's propagation.
type Propagation int

const (
	PropagationPrivate         Propagation = iota // nothing propagates
	PropagationHostToContainer                    // rslave
	PropagationBidirectional                      // rshared
)

// Mount is a bind mount of a host path, or an image volume (Image set).
type Mount struct {
	ContainerPath     string      `json:"container_path"`
	HostPath          string      `json:"host_path,omitempty"`
	Readonly          bool        `json:"readonly,omitempty"`
	RecursiveReadOnly bool        `json:"recursive_read_only,omitempty"`
	SELinuxRelabel    bool        `json:"selinux_relabel,omitempty"`
	Propagation       Propagation `json:"propagation,omitempty"`
	// UIDMappings and GIDMappings make the mount idmapped (kubelet sends
	// the pod's mappings for volumes of a user-namespaced pod).
	UIDMappings []IDMapping `json:"uid_mappings,omitempty"`
	GIDMappings []IDMapping `json:"gid_mappings,omitempty"`
	// Image, when set, makes this an image volume: the image's layers,
	// read-only, or the path ImageSubPath names in them.
	Image        string `json:"image,omitempty"`
	ImageSubPath string `json:"image_sub_path,omitempty"`
	// UserSpecifiedImage is the pod spec's name of the image, reported back
	// as it was given.
	UserSpecifiedImage string `json:"user_specified_image,omitempty"`
}

// IsImage says whether the mount is an image volume.
func (m *Mount) IsImage() bool { return m.Image != "" }

// IDMapping maps Size IDs from ContainerID (inside) to HostID.
type IDMapping struct {
	ContainerID uint32 `json:"container_id"`
	HostID      uint32 `json:"host_id"`
	Size        uint32 `json:"size"`
}

// Device is a host device (or a directory of them) made available in the
// container.
type Device struct {
	HostPath      string `json:"host_path"`
	ContainerPath string `json:"container_path"`
	// Permissions are the cgroup's: made of r, w and m; "" is "rwm".
	Permissions string `json:"permissions,omitempty"`
}

// Resources are a container's (or a pod's) cgroup limits; zero values set
// nothing.
type Resources struct {
	CPUPeriod       int64             `json:"cpu_period,omitempty"`
	CPUQuota        int64             `json:"cpu_quota,omitempty"`
	CPUShares       int64             `json:"cpu_shares,omitempty"`
	MemoryLimit     int64             `json:"memory_limit,omitempty"`
	MemorySwapLimit int64             `json:"memory_swap_limit,omitempty"`
	OOMScoreAdj     int64             `json:"oom_score_adj,omitempty"`
	CpusetCpus      string            `json:"cpuset_cpus,omitempty"`
	CpusetMems      string            `json:"cpuset_mems,omitempty"`
	Hugepages       []HugepageLimit   `json:"hugepages,omitempty"`
	Unified         map[string]string `json:"unified,omitempty"`
}

// HugepageLimit limits one page size ("2MB", "1GB").
type HugepageLimit struct {
	PageSize string `json:"page_size"`
	Limit    uint64 `json:"limit"`
}

// ProfileType says how a seccomp or AppArmor profile is chosen.
type ProfileType int

const (
	Unconfined     ProfileType = iota // no profile
	RuntimeDefault                    // berth's built-in profile
	Localhost                         // a profile of the node, named by LocalhostRef
)

// Profile is a seccomp or AppArmor profile choice.
type Profile struct {
	Type ProfileType `json:"type,omitempty"`
	// LocalhostRef is a seccomp profile's absolute path, or a loaded
	// AppArmor profile's name.
	LocalhostRef string `json:"localhost_ref,omitempty"`
}

// PIDMode is which PID namespace a container is in. The host's is the
// pod's choice (Pod.HostPID), not a container's.
type PIDMode int

const (
	PIDContainer PIDMode = iota // its own, unless the pod shares the pod's
	PIDPod                      // the pod's (pause's)
	PIDTarget                   // another container's (TargetID)
)

// Security is a container's security context.
type Security struct {
	Privileged     bool `json:"privileged,omitempty"`
	ReadonlyRootfs bool `json:"readonly_rootfs,omitempty"`
	NoNewPrivs     bool `json:"no_new_privs,omitempty"`

	// RunAsUser, else RunAsUsername, else the image's user. RunAsGroup
	// replaces the primary group and needs one of the two.
	RunAsUser          *int64  `json:"run_as_user,omitempty"`
	RunAsUsername      string  `json:"run_as_username,omitempty"`
	RunAsGroup         *int64  `json:"run_as_group,omitempty"`
	SupplementalGroups []int64 `json:"supplemental_groups,omitempty"`
	// StrictGroups is SupplementalGroupsPolicy Strict: the image's
	// /etc/group memberships are not added.
	StrictGroups bool `json:"strict_groups,omitempty"`

	// CapAdd and CapDrop change the default set ("ALL" in either).
	CapAdd  []string `json:"cap_add,omitempty"`
	CapDrop []string `json:"cap_drop,omitempty"`

	Seccomp  Profile `json:"seccomp"`
	AppArmor Profile `json:"apparmor"`

	// MaskedPaths and ReadonlyPaths nil means the defaults outside a user
	// namespace, nothing in one (see procPaths).
	MaskedPaths   []string `json:"masked_paths,omitempty"`
	ReadonlyPaths []string `json:"readonly_paths,omitempty"`

	PID PIDMode `json:"pid,omitempty"`
	// TargetID is the container whose PID namespace PIDTarget joins.
	TargetID string `json:"target_id,omitempty"`
}
