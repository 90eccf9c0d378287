package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
	"github.com/sirupsen/logrus"
)

// Pod is what a container's spec needs from its pod sandbox.
type Pod struct {
	ID    string
	NetNS string // pinned netns; "" on the host network
	// Namespaces are the pod's pinned namespaces (held by its pause
	// process) that containers join, by kind: "uts", "ipc", "pid", "user".
	Namespaces     map[string]string
	HostNetwork    bool
	HostIPC        bool
	HostPID        bool
	SharedPID      bool
	UserNS         bool // the pod has a user namespace (pause's) that containers join
	HostnamePath   string
	HostsPath      string
	ResolvConfPath string
	ShmPath        string // "" with host IPC: the host's /dev/shm
	Privileged     bool
}

// The paths kubelet masks and makes read-only for a default /proc mount.
var (
	DefaultMaskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	DefaultReadonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// defaultPath is PATH when neither the image nor the config sets one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Input is everything a container's OCI spec is made from.
type Input struct {
	ID        string
	Container *Container
	Pod       Pod
	Image     v1.Config
	Rootfs    string // the mounted overlay
	// CgroupsPath is the container's cgroup, in the cgroup driver's form.
	CgroupsPath string
	// ImageMounts is the host path to bind for each image volume (the
	// image's read-only mount, or its sub path), by clean container path.
	ImageMounts map[string]string
	// TargetPID is the init pid of the container whose PID namespace a
	// PIDTarget container joins.
	TargetPID int
	// RecursiveReadOnly says the runtime can make recursive read-only
	// mounts (its features say "rro").
	RecursiveReadOnly bool
}

// Build generates the container's OCI spec from its config, its image's
// config, its pod and what the host offers.
func (h *Host) Build(in Input) (*rspec.Spec, error) {
	c := in.Container
	sc := &c.Security
	g, err := generate.New("linux")
	if err != nil {
		return nil, err
	}
	g.HostSpecific = false
	// The pod's pause process set the hostname of the UTS namespace the
	// container joins; setting one here would change it for the whole pod.
	g.RemoveHostname()
	g.SetRootPath(in.Rootfs)
	g.SetRootReadonly(sc.ReadonlyRootfs)
	g.ClearProcessRlimits() // inherit the node's limits, as other runtimes do

	args, err := processArgs(c, in.Image)
	if err != nil {
		return nil, err
	}
	g.SetProcessArgs(args)
	g.SetProcessTerminal(c.Tty)
	cwd := c.WorkingDir
	if cwd == "" {
		cwd = in.Image.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	g.SetProcessCwd(cwd)
	g.ClearProcessEnv()
	for _, e := range mergeEnv(in.Image.Env, c.Env) {
		g.AddMultipleProcessEnv([]string{e})
	}

	user, err := resolveUser(in.Rootfs, sc, in.Image.User)
	if err != nil {
		return nil, err
	}
	g.SetProcessUID(user.UID)
	g.SetProcessGID(user.GID)
	for _, gid := range user.Groups {
		g.AddProcessAdditionalGid(gid)
	}
	if !slices.ContainsFunc(g.Config.Process.Env, func(e string) bool { return strings.HasPrefix(e, "HOME=") }) {
		g.AddProcessEnv("HOME", user.Home)
	}

	privileged := sc.Privileged
	if privileged && !in.Pod.Privileged {
		return nil, invalidf("a privileged container needs a privileged pod sandbox")
	}
	if err := h.setCapabilities(&g, sc, privileged); err != nil {
		return nil, err
	}
	var caps []string
	if c := g.Config.Process.Capabilities; c != nil {
		caps = c.Bounding
	}
	if g.Config.Linux.Seccomp, err = h.Seccomp(sc.Seccomp, privileged, caps); err != nil {
		return nil, err
	}
	apparmor, err := h.AppArmor.profile(sc.AppArmor, privileged)
	if err != nil {
		return nil, err
	}
	g.SetProcessApparmorProfile(apparmor)
	g.SetProcessNoNewPrivileges(sc.NoNewPrivs)
	if privileged {
		g.Config.Linux.MaskedPaths = nil
		g.Config.Linux.ReadonlyPaths = nil
		if err := addHostDevices(&g); err != nil {
			return nil, err
		}
	} else {
		g.Config.Linux.MaskedPaths, g.Config.Linux.ReadonlyPaths = procPaths(sc, in.Pod.UserNS)
	}

	if err := setNamespaces(&g, in); err != nil {
		return nil, err
	}
	if err := setMounts(&g, in, privileged); err != nil {
		return nil, err
	}
	if err := setDevices(&g, c.Devices); err != nil {
		return nil, err
	}
	if devices, err := cdiDevices(c); err != nil {
		return nil, err
	} else if len(devices) > 0 {
		if err := h.CDI.inject(g.Config, devices); err != nil {
			return nil, err
		}
	}
	h.setResources(&g, c.Resources, logrus.WithFields(logrus.Fields{"container": in.ID, "cgroup": in.CgroupsPath}))
	g.SetLinuxCgroupsPath(in.CgroupsPath)
	for k, v := range c.Annotations {
		if runtimeAnnotation(k) {
			continue
		}
		g.AddAnnotation(k, v)
	}
	g.AddAnnotation("io.kubernetes.cri.container-type", "container")
	g.AddAnnotation("io.kubernetes.cri.sandbox-id", in.Pod.ID)
	// Last: a hook's "when" sees the final annotations and command.
	if err := h.Hooks.apply(g.Config, len(c.Mounts) > 0); err != nil {
		return nil, err
	}
	return g.Config, nil
}

// runtimeAnnotationPrefixes name the annotations OCI runtimes act on (crun's
// run.oci.* change how it runs the container, runc's org.criu.* how it
// checkpoints it) and berth's own: a container's annotations never reach
// the spec with them, whatever the pod asks. ContainerStatus still
// reports every annotation the container was created with.
var runtimeAnnotationPrefixes = []string{"run.oci.", "org.criu.", "io.kubernetes.cri."}

func runtimeAnnotation(key string) bool {
	return slices.ContainsFunc(runtimeAnnotationPrefixes, func(p string) bool { return strings.HasPrefix(key, p) })
}

// procPaths are the paths a container's /proc (and /sys) masks and makes
// read-only.
//
// kubelet always sends both lists: its defaults for procMount Default, empty
// lists for Unmasked. Protobuf cannot tell an empty repeated field from an
// unset one (both decode to nil), so an Unmasked request looks like one
// from a client that never set them. containerd (since its issue 5029) and
// CRI-O take nil as "mask nothing", trusting kubelet to send the defaults.
// berth does the same wherever kubelet can ask for Unmasked: the API server
// allows it only with hostUsers: false, so in a pod with a user namespace
// nil masks nothing. Outside one, kubelet always sends non-empty lists, and
// nil comes from another client (crictl, critest) that did not set them: it
// gets kubelet's defaults rather than an open /proc in a container whose
// root is the host's root.
func procPaths(sc *Security, userNS bool) (masked, readonly []string) {
	masked, readonly = sc.MaskedPaths, sc.ReadonlyPaths
	if !userNS && masked == nil {
		masked = slices.Clone(DefaultMaskedPaths)
	}
	if !userNS && readonly == nil {
		readonly = slices.Clone(DefaultReadonlyPaths)
	}
	return masked, readonly
}

// processArgs applies kubelet's rules: the CRI command replaces the image's
// entrypoint (and drops its cmd); CRI args replace the image's cmd.
func processArgs(c *Container, img v1.Config) ([]string, error) {
	var args []string
	switch {
	case len(c.Command) > 0:
		args = append(slices.Clone(c.Command), c.Args...)
	case len(c.Args) > 0:
		args = append(slices.Clone(img.Entrypoint), c.Args...)
	default:
		args = append(slices.Clone(img.Entrypoint), img.Cmd...)
	}
	if len(args) == 0 {
		return nil, invalidf("no command: the config has no command or args and the image no entrypoint or cmd")
	}
	return args, nil
}

// mergeEnv is the image's environment overridden by the config's, keeping
// the image's order, with PATH always set.
func mergeEnv(image []string, vars []EnvVar) []string {
	out := slices.Clone(image)
	index := map[string]int{}
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		index[k] = i
	}
	set := func(k, v string) {
		if i, ok := index[k]; ok {
			out[i] = k + "=" + v
			return
		}
		index[k] = len(out)
		out = append(out, k+"="+v)
	}
	for _, v := range vars {
		set(v.Key, v.Value)
	}
	if _, ok := index["PATH"]; !ok {
		set("PATH", defaultPath)
	}
	return out
}

func setNamespaces(g *generate.Generator, in Input) error {
	pod := in.Pod
	sc := &in.Container.Security
	g.ClearLinuxNamespaces()
	var err error
	add := func(kind rspec.LinuxNamespaceType, path string) {
		if err == nil {
			err = g.AddOrReplaceLinuxNamespace(string(kind), path)
		}
	}
	// A namespace the pod should have but does not name is a pod that
	// lost it; joining "" would make a new one and split the pod.
	pausNS := func(kind string) string {
		p := pod.Namespaces[kind]
		if p == "" && err == nil {
			err = fmt.Errorf("%w: pod %s has no %s namespace to join", ErrFailedPrecondition, pod.ID, kind)
		}
		return p
	}
	add(rspec.MountNamespace, "")
	if pod.UserNS {
		add(rspec.UserNamespace, pausNS("user"))
	}
	if !pod.HostNetwork {
		add(rspec.NetworkNamespace, pod.NetNS)
		add(rspec.UTSNamespace, pausNS("uts"))
	}
	if !pod.HostIPC {
		add(rspec.IPCNamespace, pausNS("ipc"))
	}
	switch {
	case pod.HostPID:
	case sc.PID == PIDTarget:
		if in.TargetPID <= 0 {
			return invalidf("PID namespace target %q is not a running container", sc.TargetID)
		}
		add(rspec.PIDNamespace, fmt.Sprintf("/proc/%d/ns/pid", in.TargetPID))
	case !pod.SharedPID && sc.PID == PIDPod && pod.Namespaces["pid"] == "":
		// Only a pod that shares one has a PID namespace of its own
		// (it takes an init, which the other pods go without).
		return fmt.Errorf("%w: pod %s does not share a PID namespace (its pid namespace mode is not POD), so a container cannot join the pod's", ErrFailedPrecondition, pod.ID)
	case pod.SharedPID || sc.PID == PIDPod:
		add(rspec.PIDNamespace, pausNS("pid"))
	default:
		add(rspec.PIDNamespace, "")
	}
	return err
}

// addHostDevices gives a privileged container every device of the host.
func addHostDevices(g *generate.Generator) error {
	g.ClearLinuxDevices()
	g.Config.Linux.Resources.Devices = nil
	g.AddLinuxResourcesDevice(true, "a", nil, nil, "rwm")
	return filepath.WalkDir("/dev", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			switch path {
			case "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/fd":
				return filepath.SkipDir
			}
			return nil
		}
		if path == "/dev/console" || path == "/dev/ptmx" {
			return nil
		}
		if dev, ok := deviceAt(path, path, ""); ok {
			g.AddDevice(dev)
		}
		return nil
	})
}
