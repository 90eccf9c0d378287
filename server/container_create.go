package server

import (
	"context"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/trace"
	"github.com/berth-dev/berth/sandbox"
	"github.com/berth-dev/berth/spec"
)

// CreateContainer creates a container in a ready pod from a pulled image.
func (s *Server) CreateContainer(ctx context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	if req.GetConfig() == nil {
		return nil, invalid("container config is required")
	}
	pod, err := s.podOf(req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	cfg, err := containerConfig(req.GetConfig())
	if err != nil {
		return nil, err
	}
	id, err := s.containers.Create(ctx, pod, cfg)
	if err != nil {
		return nil, toStatus(err)
	}
	// The runtime's create and start are StartContainer's to report, even
	// when the create, which runs on after this call, has already ended.
	if steps, err := s.containers.Startup(id); err == nil {
		steps = slices.DeleteFunc(steps, func(st trace.Step) bool {
			return st.Name == container.RuntimeCreateStep || st.Name == container.StartStep
		})
		recordStart(ctx, containerStartSteps, steps, "berth.container", id, time.Time{})
	}
	return &runtimeapi.CreateContainerResponse{ContainerId: id}, nil
}

// podOf is what a container needs to know of its (ready) pod.
func (s *Server) podOf(sandboxID string) (container.Pod, error) {
	if sandboxID == "" {
		return container.Pod{}, errNoSandboxID
	}
	rec, err := s.sandboxes.Status(sandboxID)
	if err != nil {
		return container.Pod{}, toStatus(err)
	}
	if rec.State != sandbox.Ready {
		return container.Pod{}, status.Errorf(codes.FailedPrecondition, "pod sandbox %s is not ready", rec.ID)
	}
	rt, err := s.runtimes.Get(rec.Handler)
	if err != nil {
		return container.Pod{}, status.Errorf(codes.FailedPrecondition, "pod sandbox %s: %v", rec.ID, err)
	}
	return container.Pod{
		Pod:          rec.ContainerPod(),
		Name:         rec.Config.Name,
		Namespace:    rec.Config.Namespace,
		UID:          rec.Config.UID,
		CgroupParent: rec.CgroupParent,
		LogDir:       rec.Config.LogDir,
		RootfsDir:    rec.RootfsDir(),
		Runtime:      rt,
	}, nil
}

// containerConfig translates the CRI config into the container package's.
// The deprecated ways of naming seccomp and AppArmor profiles are read
// here; what only the host can judge (paths, profiles, users) is checked
// below.
func containerConfig(c *runtimeapi.ContainerConfig) (*container.Config, error) {
	stopSignal, err := stopSignalName(c.GetStopSignal())
	if err != nil {
		return nil, err
	}
	sc := c.GetLinux().GetSecurityContext()
	security, err := containerSecurity(sc)
	if err != nil {
		return nil, err
	}
	cfg := &container.Config{
		Name:               c.GetMetadata().GetName(),
		Attempt:            c.GetMetadata().GetAttempt(),
		Image:              c.GetImage().GetImage(),
		UserSpecifiedImage: c.GetImage().GetUserSpecifiedImage(),
		Labels:             c.GetLabels(),
		LogPath:            c.GetLogPath(),
		Stdin:              c.GetStdin(),
		StdinOnce:          c.GetStdinOnce(),
		StopSignal:         stopSignal,
		Container: spec.Container{
			Command:     c.GetCommand(),
			Args:        c.GetArgs(),
			WorkingDir:  c.GetWorkingDir(),
			Tty:         c.GetTty(),
			Annotations: c.GetAnnotations(),
			Security:    security,
		},
	}
	for _, kv := range c.GetEnvs() {
		cfg.Env = append(cfg.Env, spec.EnvVar{Key: kv.GetKey(), Value: string(kv.GetValue())})
	}
	for _, m := range c.GetMounts() {
		cfg.Mounts = append(cfg.Mounts, specMount(m))
	}
	for _, d := range c.GetDevices() {
		cfg.Devices = append(cfg.Devices, spec.Device{HostPath: d.GetHostPath(), ContainerPath: d.GetContainerPath(), Permissions: d.GetPermissions()})
	}
	for _, d := range c.GetCDIDevices() {
		cfg.CDIDevices = append(cfg.CDIDevices, d.GetName())
	}
	if r := c.GetLinux().GetResources(); r != nil {
		res := specResources(r)
		cfg.Resources = &res
	}
	return cfg, nil
}

// containerSecurity translates a container's security context.
func containerSecurity(sc *runtimeapi.LinuxContainerSecurityContext) (spec.Security, error) {
	seccomp, err := seccompProfile(sc)
	if err != nil {
		return spec.Security{}, err
	}
	apparmor, err := appArmorProfile(sc)
	if err != nil {
		return spec.Security{}, err
	}
	out := spec.Security{
		Privileged:         sc.GetPrivileged(),
		ReadonlyRootfs:     sc.GetReadonlyRootfs(),
		NoNewPrivs:         sc.GetNoNewPrivs(),
		RunAsUsername:      sc.GetRunAsUsername(),
		SupplementalGroups: sc.GetSupplementalGroups(),
		StrictGroups:       sc.GetSupplementalGroupsPolicy() == runtimeapi.SupplementalGroupsPolicy_Strict,
		CapAdd:             sc.GetCapabilities().GetAddCapabilities(),
		CapDrop:            sc.GetCapabilities().GetDropCapabilities(),
		Seccomp:            seccomp,
		AppArmor:           apparmor,
		MaskedPaths:        sc.GetMaskedPaths(),
		ReadonlyPaths:      sc.GetReadonlyPaths(),
	}
	if u := sc.GetRunAsUser(); u != nil {
		v := u.GetValue()
		out.RunAsUser = &v
	}
	if g := sc.GetRunAsGroup(); g != nil {
		v := g.GetValue()
		out.RunAsGroup = &v
	}
	switch ns := sc.GetNamespaceOptions(); ns.GetPid() {
	case runtimeapi.NamespaceMode_POD:
		out.PID = spec.PIDPod
	case runtimeapi.NamespaceMode_TARGET:
		out.PID, out.TargetID = spec.PIDTarget, ns.GetTargetId()
	}
	return out, nil
}

// seccompProfile is the profile the security context asks for: its
// seccomp field, else the deprecated profile path ("" being unconfined).
func seccompProfile(sc *runtimeapi.LinuxContainerSecurityContext) (spec.Profile, error) {
	if p := sc.GetSeccomp(); p != nil {
		return specProfile("seccomp", p)
	}
	path := sc.GetSeccompProfilePath() //nolint:staticcheck // still sent by old clients
	switch {
	case path == "" || path == "unconfined":
		return spec.Profile{Type: spec.Unconfined}, nil
	case path == "runtime/default" || path == "docker/default":
		return spec.Profile{Type: spec.RuntimeDefault}, nil
	case strings.HasPrefix(path, "localhost/"):
		return spec.Profile{Type: spec.Localhost, LocalhostRef: strings.TrimPrefix(path, "localhost/")}, nil
	}
	return spec.Profile{}, invalid(`seccomp profile path %q: want "unconfined", "runtime/default" or "localhost/<absolute path>"`, path)
}

// appArmorProfile is the AppArmor profile the security context asks for:
// its apparmor field, else the deprecated profile name. Neither is the
// runtime's default profile, as with containerd and CRI-O (kubernetes
// #51746): kubelet leaves it unset for pods that do not choose.
func appArmorProfile(sc *runtimeapi.LinuxContainerSecurityContext) (spec.Profile, error) {
	if p := sc.GetApparmor(); p != nil {
		return specProfile("apparmor", p)
	}
	switch old := sc.GetApparmorProfile(); { //nolint:staticcheck // still sent by old clients
	case old == "" || old == "runtime/default":
		return spec.Profile{Type: spec.RuntimeDefault}, nil
	case strings.HasPrefix(old, "localhost/"):
		return spec.Profile{Type: spec.Localhost, LocalhostRef: strings.TrimPrefix(old, "localhost/")}, nil
	case old == "unconfined":
		return spec.Profile{Type: spec.Unconfined}, nil
	default:
		return spec.Profile{}, invalid("apparmor profile %q: want runtime/default, localhost/<name> or unconfined", old)
	}
}

// specProfile translates a profile; the CRI's zero value is RuntimeDefault.
func specProfile(kind string, p *runtimeapi.SecurityProfile) (spec.Profile, error) {
	var t spec.ProfileType
	switch p.GetProfileType() {
	case runtimeapi.SecurityProfile_RuntimeDefault:
		t = spec.RuntimeDefault
	case runtimeapi.SecurityProfile_Unconfined:
		t = spec.Unconfined
	case runtimeapi.SecurityProfile_Localhost:
		t = spec.Localhost
	default:
		return spec.Profile{}, invalid("unknown %s profile type %v", kind, p.GetProfileType())
	}
	return spec.Profile{Type: t, LocalhostRef: p.GetLocalhostRef()}, nil
}

func specMount(m *runtimeapi.Mount) spec.Mount {
	out := spec.Mount{
		ContainerPath:      m.GetContainerPath(),
		HostPath:           m.GetHostPath(),
		Readonly:           m.GetReadonly(),
		RecursiveReadOnly:  m.GetRecursiveReadOnly(),
		SELinuxRelabel:     m.GetSelinuxRelabel(),
		UIDMappings:        specIDMappings(m.GetUidMappings()),
		GIDMappings:        specIDMappings(m.GetGidMappings()),
		Image:              m.GetImage().GetImage(),
		UserSpecifiedImage: m.GetImage().GetUserSpecifiedImage(),
		ImageSubPath:       m.GetImageSubPath(),
	}
	switch m.GetPropagation() {
	case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
		out.Propagation = spec.PropagationHostToContainer
	case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
		out.Propagation = spec.PropagationBidirectional
	}
	return out
}

func specIDMappings(in []*runtimeapi.IDMapping) []spec.IDMapping {
	var out []spec.IDMapping
	for _, m := range in {
		out = append(out, spec.IDMapping{ContainerID: m.GetContainerId(), HostID: m.GetHostId(), Size: m.GetLength()})
	}
	return out
}

// specResources translates CRI resources (a container's, or a pod's in
// UpdatePodSandboxResources).
func specResources(r *runtimeapi.LinuxContainerResources) spec.Resources {
	out := spec.Resources{
		CPUPeriod:       r.GetCpuPeriod(),
		CPUQuota:        r.GetCpuQuota(),
		CPUShares:       r.GetCpuShares(),
		MemoryLimit:     r.GetMemoryLimitInBytes(),
		MemorySwapLimit: r.GetMemorySwapLimitInBytes(),
		OOMScoreAdj:     r.GetOomScoreAdj(),
		CpusetCpus:      r.GetCpusetCpus(),
		CpusetMems:      r.GetCpusetMems(),
		Unified:         r.GetUnified(),
	}
	for _, h := range r.GetHugepageLimits() {
		out.Hugepages = append(out.Hugepages, spec.HugepageLimit{PageSize: h.GetPageSize(), Limit: h.GetLimit()})
	}
	return out
}
