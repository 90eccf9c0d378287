package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/internal/cgroups"
)

// Fixture files of the fake rootfs most tests use.
const (
	testPasswd = `root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
`
	testGroup = `root:x:0:
wheel:x:10:root
audio:x:29:app
video:x:44:app,other
app:x:1000:
`
)

// testPod is the pod the containers of these tests run in.
var testPod = Pod{
	ID:    "pod-1",
	NetNS: "/run/x/ns/abc",
	Namespaces: map[string]string{
		"uts": "/pins/uts", "ipc": "/pins/ipc", "pid": "/pins/pid", "user": "/pins/user",
	},
	HostnamePath:   "/pods/pod-1/hostname",
	HostsPath:      "/pods/pod-1/hosts",
	ResolvConfPath: "/pods/pod-1/resolv.conf",
	ShmPath:        "/pods/pod-1/shm",
}

// newRootfs makes a fake rootfs holding etc/passwd and etc/group (each only
// when its content is not empty).
func newRootfs(t testing.TB, passwd, group string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"passwd": passwd, "group": group} {
		if content == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// testCase is what a test builds a spec from: the input, and the host it
// is built on (a pointer: Host holds a sync.Once).
type testCase struct {
	Input
	Host *Host
}

// testHostFacts is the host these tests build on: berth's own capabilities,
// a v1 host with every controller, an OOM score floor of -500, no AppArmor
// and this machine's seccomp facts.
func testHostFacts(t testing.TB) *Host {
	t.Helper()
	return &Host{
		Capabilities:   boundingCapabilities(),
		Cgroups:        testHost(t, cgroups.Legacy, true, allV1...),
		MinOOMScoreAdj: -500,
		AppArmor:       AppArmor{Enabled: false, ProfilesFile: filepath.Join(t.TempDir(), "apparmor-profiles")},
		seccomp:        probeSeccompHost(),
	}
}

// testInput is a plain container in testPod, as kubelet would send it: its
// own PID namespace, the pod's network and IPC.
func testInput(t testing.TB) testCase {
	t.Helper()
	return testCase{
		Input: Input{
			ID:          "ctr-1",
			Container:   &Container{},
			Pod:         testPod,
			Image:       v1.Config{Cmd: []string{"/bin/app"}},
			Rootfs:      newRootfs(t, testPasswd, testGroup),
			CgroupsPath: "/berth/berth-ctr-1",
		},
		Host: testHostFacts(t),
	}
}

// securityContext is the container's security context, for a test to change.
func securityContext(in *testCase) *Security {
	return &in.Container.Security
}

// resources are the container's resources, for a test to change.
func resources(in *testCase) *Resources {
	if in.Container.Resources == nil {
		in.Container.Resources = &Resources{}
	}
	return in.Container.Resources
}

// ptr is a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// buildSpec builds the spec of testInput changed by mutate (which may be nil).
func buildSpec(t *testing.T, mutate func(*testCase)) *rspec.Spec {
	t.Helper()
	in := testInput(t)
	if mutate != nil {
		mutate(&in)
	}
	s, err := in.Host.Build(in.Input)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return s
}

// invalidCase is a change to testInput that Build must reject.
type invalidCase struct {
	name   string
	mutate func(t *testing.T, in *testCase)
}

// testInvalid checks that Build rejects each case with ErrInvalid.
func testInvalid(t *testing.T, tests []invalidCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			tt.mutate(t, &in)
			s, err := in.Host.Build(in.Input)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Build = %v, %v; want an error wrapping ErrInvalid", s != nil, err)
			}
		})
	}
}

func findMount(s *rspec.Spec, dst string) (rspec.Mount, bool) {
	i := slices.IndexFunc(s.Mounts, func(m rspec.Mount) bool { return m.Destination == dst })
	if i < 0 {
		return rspec.Mount{}, false
	}
	return s.Mounts[i], true
}

func findNamespace(s *rspec.Spec, typ rspec.LinuxNamespaceType) (rspec.LinuxNamespace, bool) {
	i := slices.IndexFunc(s.Linux.Namespaces, func(ns rspec.LinuxNamespace) bool { return ns.Type == typ })
	if i < 0 {
		return rspec.LinuxNamespace{}, false
	}
	return s.Linux.Namespaces[i], true
}

func env(kvs ...string) []EnvVar {
	var out []EnvVar
	for i := 0; i+1 < len(kvs); i += 2 {
		out = append(out, EnvVar{Key: kvs[i], Value: kvs[i+1]})
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestBuildSpecProcessArgs(t *testing.T) {
	img := v1.Config{Entrypoint: []string{"/entry", "-v"}, Cmd: []string{"serve", "--port=80"}}
	tests := []struct {
		name          string
		image         v1.Config
		command, args []string
		want          []string
	}{
		{"command replaces entrypoint and drops cmd", img, []string{"/bin/sh", "-c"}, nil, []string{"/bin/sh", "-c"}},
		{"command and args", img, []string{"/bin/sh"}, []string{"-c", "true"}, []string{"/bin/sh", "-c", "true"}},
		{"args replace cmd after entrypoint", img, nil, []string{"run"}, []string{"/entry", "-v", "run"}},
		{"args without entrypoint", v1.Config{Cmd: []string{"serve"}}, nil, []string{"run"}, []string{"run"}},
		{"neither: entrypoint and cmd", img, nil, nil, []string{"/entry", "-v", "serve", "--port=80"}},
		{"neither: only entrypoint", v1.Config{Entrypoint: []string{"/entry"}}, nil, nil, []string{"/entry"}},
		{"neither: only cmd", v1.Config{Cmd: []string{"/bin/app"}}, nil, nil, []string{"/bin/app"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				in.Image = tt.image
				in.Container.Command, in.Container.Args = tt.command, tt.args
			})
			if !slices.Equal(s.Process.Args, tt.want) {
				t.Errorf("args = %q, want %q", s.Process.Args, tt.want)
			}
		})
	}
}

func TestBuildSpecEnv(t *testing.T) {
	tests := []struct {
		name  string
		image []string
		cfg   []EnvVar
		want  []string
	}{
		{
			name: "nothing: default PATH",
			want: []string{"PATH=" + defaultPath, "HOME=/root"},
		},
		{
			name:  "image only",
			image: []string{"PATH=/img/bin", "A=1"},
			want:  []string{"PATH=/img/bin", "A=1", "HOME=/root"},
		},
		{
			name:  "config overrides image in image order",
			image: []string{"A=1", "PATH=/img/bin", "B=2"},
			cfg:   env("B", "cfg", "C", "3", "A", "x=y"),
			want:  []string{"A=x=y", "PATH=/img/bin", "B=cfg", "C=3", "HOME=/root"},
		},
		{
			name:  "config PATH",
			image: []string{"A=1"},
			cfg:   env("PATH", "/cfg/bin"),
			want:  []string{"A=1", "PATH=/cfg/bin", "HOME=/root"},
		},
		{
			name:  "default PATH appended after the config",
			image: []string{"A=1"},
			cfg:   env("B", "2"),
			want:  []string{"A=1", "B=2", "PATH=" + defaultPath, "HOME=/root"},
		},
		{
			name: "empty value",
			cfg:  env("EMPTY", ""),
			want: []string{"EMPTY=", "PATH=" + defaultPath, "HOME=/root"},
		},
		{
			name:  "HOME from the image kept",
			image: []string{"HOME=/img/home"},
			want:  []string{"HOME=/img/home", "PATH=" + defaultPath},
		},
		{
			name: "HOME from the config kept",
			cfg:  env("HOME", "/cfg/home"),
			want: []string{"HOME=/cfg/home", "PATH=" + defaultPath},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				in.Image.Env = tt.image
				in.Container.Env = tt.cfg
			})
			if !slices.Equal(s.Process.Env, tt.want) {
				t.Errorf("env = %q, want %q", s.Process.Env, tt.want)
			}
		})
	}
}

func TestBuildSpecCwd(t *testing.T) {
	tests := []struct {
		name, config, image, want string
	}{
		{"config wins", "/cfg", "/img", "/cfg"},
		{"image", "", "/img", "/img"},
		{"root by default", "", "", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				in.Container.WorkingDir = tt.config
				in.Image.WorkingDir = tt.image
			})
			if s.Process.Cwd != tt.want {
				t.Errorf("cwd = %q, want %q", s.Process.Cwd, tt.want)
			}
		})
	}
}

func TestBuildSpecDefaults(t *testing.T) {
	var rootfs string
	s := buildSpec(t, func(in *testCase) { rootfs = in.Rootfs })
	if s.Linux.Seccomp != nil {
		t.Errorf("seccomp = %+v, want nil (unconfined)", s.Linux.Seccomp)
	}
	if s.Hostname != "" {
		t.Errorf("hostname = %q, want none: the pod's UTS namespace has it", s.Hostname)
	}
	if len(s.Process.Rlimits) != 0 {
		t.Errorf("rlimits = %+v, want none", s.Process.Rlimits)
	}
	if s.Root == nil || s.Root.Path != rootfs || s.Root.Readonly {
		t.Errorf("root = %+v, want %q read-write", s.Root, rootfs)
	}
	if s.Process.Terminal || s.Process.NoNewPrivileges {
		t.Errorf("terminal, no new privileges = %v, %v; want false, false", s.Process.Terminal, s.Process.NoNewPrivileges)
	}
	if !slices.Equal(s.Linux.MaskedPaths, DefaultMaskedPaths) || !slices.Equal(s.Linux.ReadonlyPaths, DefaultReadonlyPaths) {
		t.Errorf("masked, read-only paths = %q, %q; want kubelet's defaults when the config has none", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
}

func TestBuildSpecProcessFlags(t *testing.T) {
	s := buildSpec(t, func(in *testCase) {
		in.Container.Tty = true
		sc := securityContext(in)
		sc.ReadonlyRootfs = true
		sc.NoNewPrivs = true
		sc.MaskedPaths = []string{"/proc/kcore"}
		sc.ReadonlyPaths = []string{"/proc/sys"}
	})
	if !s.Root.Readonly {
		t.Error("root is read-write, want read-only")
	}
	if !s.Process.Terminal || !s.Process.NoNewPrivileges {
		t.Errorf("terminal, no new privileges = %v, %v; want true, true", s.Process.Terminal, s.Process.NoNewPrivileges)
	}
	if !slices.Equal(s.Linux.MaskedPaths, []string{"/proc/kcore"}) || !slices.Equal(s.Linux.ReadonlyPaths, []string{"/proc/sys"}) {
		t.Errorf("masked, read-only paths = %q, %q; want the config's", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
}

func TestBuildSpecCapabilities(t *testing.T) {
	defaults := DefaultCapabilities
	tests := []struct {
		name      string
		add, drop []string
		want      []string
	}{
		{"defaults", nil, nil, defaults},
		{"add normalized", []string{"NET_ADMIN", "cap_sys_time"}, nil, append(slices.Clone(defaults), "CAP_NET_ADMIN", "CAP_SYS_TIME")},
		{"add with prefix", []string{"CAP_SYS_ADMIN"}, nil, append(slices.Clone(defaults), "CAP_SYS_ADMIN")},
		{"add a default", []string{"KILL"}, nil, defaults},
		{"drop one", nil, []string{"kill"}, slices.DeleteFunc(slices.Clone(defaults), func(c string) bool { return c == "CAP_KILL" })},
		{"drop all", nil, []string{"ALL"}, nil},
		{"drop all then add one", []string{"NET_RAW"}, []string{"all"}, []string{"CAP_NET_RAW"}},
		// Drops win over adds, as with kubelet's other runtimes.
		{"add and drop the same", []string{"CHOWN"}, []string{"CHOWN"}, slices.DeleteFunc(slices.Clone(defaults), func(c string) bool { return c == "CAP_CHOWN" })},
		{"add all, drop all", []string{"ALL"}, []string{"ALL"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				sc := securityContext(in)
				sc.CapAdd, sc.CapDrop = tt.add, tt.drop
			})
			c := s.Process.Capabilities
			want := sorted(tt.want)
			for set, got := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "permitted": c.Permitted} {
				if !slices.Equal(sorted(got), want) {
					t.Errorf("%s = %q, want %q", set, sorted(got), want)
				}
			}
			if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
				t.Errorf("inheritable, ambient = %q, %q; want none", c.Inheritable, c.Ambient)
			}
		})
	}
}

func TestBuildSpecPrivileged(t *testing.T) {
	s := buildSpec(t, func(in *testCase) {
		in.Pod.Privileged = true
		sc := securityContext(in)
		sc.Privileged = true
		sc.CapDrop = []string{"ALL"}
		sc.MaskedPaths = []string{"/proc/kcore"}
		sc.ReadonlyPaths = []string{"/proc/sys"}
	})
	c := s.Process.Capabilities
	for _, want := range DefaultCapabilities {
		if !slices.Contains(c.Bounding, want) {
			t.Errorf("bounding set %q lacks default %s", c.Bounding, want)
		}
	}
	if !slices.Equal(c.Effective, c.Bounding) || !slices.Equal(c.Permitted, c.Bounding) {
		t.Errorf("effective %q and permitted %q differ from bounding %q", c.Effective, c.Permitted, c.Bounding)
	}
	if s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil {
		t.Errorf("masked, read-only paths = %q, %q; want none", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if len(s.Linux.Devices) == 0 {
		t.Error("no host devices")
	}
	allowAll := rspec.LinuxDeviceCgroup{Allow: true, Type: "a", Access: "rwm"}
	if !slices.ContainsFunc(s.Linux.Resources.Devices, func(d rspec.LinuxDeviceCgroup) bool {
		return d.Allow == allowAll.Allow && d.Type == allowAll.Type && d.Access == allowAll.Access && d.Major == nil && d.Minor == nil
	}) {
		t.Errorf("device rules %+v do not allow every device", s.Linux.Resources.Devices)
	}
}

// A pod that has lost a namespace its containers must join is refused,
// never given a fresh namespace of its own: that would split the pod.
func TestBuildSpecMissingPodNamespace(t *testing.T) {
	in := testInput(t)
	in.Pod.Namespaces = map[string]string{"uts": "/pins/uts", "pid": "/pins/pid"} // no ipc
	_, err := in.Host.Build(in.Input)
	if !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("Build without the pod's ipc namespace: err = %v, want ErrFailedPrecondition", err)
	}
}

// A container that asks for the pod's PID namespace in a pod that does
// not share one (and so has none: no init) is refused with the reason.
func TestBuildSpecPodPIDInPodWithoutOne(t *testing.T) {
	in := testInput(t)
	in.Pod.Namespaces = map[string]string{"uts": "/pins/uts", "ipc": "/pins/ipc"}
	securityContext(&in).PID = PIDPod
	_, err := in.Host.Build(in.Input)
	if !errors.Is(err, ErrFailedPrecondition) || !strings.Contains(err.Error(), "does not share a PID namespace") {
		t.Fatalf("Build with PIDPod in a pod without a PID namespace: err = %v, want ErrFailedPrecondition saying why", err)
	}
}

func TestBuildSpecNamespaces(t *testing.T) {
	type nsMap = map[rspec.LinuxNamespaceType]string
	tests := []struct {
		name      string
		pod       func(*Pod)
		pid       PIDMode
		targetPID int
		want      nsMap // every namespace, by type: its path
	}{
		{
			name: "pod network, own pid",
			pid:  PIDContainer,
			want: nsMap{"mount": "", "network": "/run/x/ns/abc", "uts": "/pins/uts", "ipc": "/pins/ipc", "pid": ""},
		},
		{
			name: "host network",
			pod:  func(p *Pod) { p.HostNetwork, p.NetNS = true, "" },
			pid:  PIDContainer,
			want: nsMap{"mount": "", "ipc": "/pins/ipc", "pid": ""},
		},
		{
			name: "host IPC",
			pod:  func(p *Pod) { p.HostIPC = true },
			pid:  PIDContainer,
			want: nsMap{"mount": "", "network": "/run/x/ns/abc", "uts": "/pins/uts", "pid": ""},
		},
		{
			name: "shared pid pod",
			pod:  func(p *Pod) { p.SharedPID = true },
			pid:  PIDContainer,
			want: nsMap{"mount": "", "network": "/run/x/ns/abc", "uts": "/pins/uts", "ipc": "/pins/ipc", "pid": "/pins/pid"},
		},
		{
			name: "pod pid mode",
			pid:  PIDPod,
			want: nsMap{"mount": "", "network": "/run/x/ns/abc", "uts": "/pins/uts", "ipc": "/pins/ipc", "pid": "/pins/pid"},
		},
		{
			name: "host pid",
			pod:  func(p *Pod) { p.HostPID = true },
			pid:  PIDContainer, // host PID is the pod's choice
			want: nsMap{"mount": "", "network": "/run/x/ns/abc", "uts": "/pins/uts", "ipc": "/pins/ipc"},
		},
		{
			name:      "target pid",
			pid:       PIDTarget,
			targetPID: 77,
			want:      nsMap{"mount": "", "network": "/run/x/ns/abc", "uts": "/pins/uts", "ipc": "/pins/ipc", "pid": "/proc/77/ns/pid"},
		},
		{
			name: "all host",
			pod:  func(p *Pod) { p.HostNetwork, p.HostIPC, p.HostPID, p.NetNS = true, true, true, "" },
			pid:  PIDContainer, // host PID is the pod's choice
			want: nsMap{"mount": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				if tt.pod != nil {
					tt.pod(&in.Pod)
				}
				securityContext(in).PID = tt.pid
				in.TargetPID = tt.targetPID
			})
			got := nsMap{}
			for _, ns := range s.Linux.Namespaces {
				if _, dup := got[ns.Type]; dup {
					t.Errorf("namespace %s twice", ns.Type)
				}
				got[ns.Type] = ns.Path
			}
			if len(got) != len(tt.want) {
				t.Errorf("namespaces = %v, want %v", got, tt.want)
			}
			for typ, path := range tt.want {
				if ns, ok := findNamespace(s, typ); !ok || ns.Path != path {
					t.Errorf("namespace %s = %q (present %v), want %q", typ, ns.Path, ok, path)
				}
			}
		})
	}
}

func TestBuildSpecInvalid(t *testing.T) {
	testInvalid(t, []invalidCase{
		{"no command at all", func(t *testing.T, in *testCase) { in.Image = v1.Config{} }},
		{"unknown capability to add", func(t *testing.T, in *testCase) {
			securityContext(in).CapAdd = []string{"NET_WIZARD"}
		}},
		{"unknown capability to drop", func(t *testing.T, in *testCase) {
			securityContext(in).CapDrop = []string{"CAP_BOGUS"}
		}},
		{"privileged container in unprivileged pod", func(t *testing.T, in *testCase) { securityContext(in).Privileged = true }},
		{"target pid namespace without a target", func(t *testing.T, in *testCase) {
			sc := securityContext(in)
			sc.PID, sc.TargetID = PIDTarget, "gone"
			in.TargetPID = 0
		}},
	})
}

func TestBuildSpecResources(t *testing.T) {
	s := buildSpec(t, func(in *testCase) {
		r := resources(in)
		r.CPUShares = 512
		r.CPUQuota = 50000
		r.CPUPeriod = 100000
		r.CpusetCpus = "0-1"
		r.CpusetMems = "0"
		r.MemoryLimit = 256 << 20
		r.OOMScoreAdj = 500
		r.Hugepages = []HugepageLimit{{PageSize: "2MB", Limit: 4 << 20}, {PageSize: "1GB", Limit: 1 << 30}}
	})
	res := s.Linux.Resources
	cpu := res.CPU
	if cpu == nil || cpu.Shares == nil || *cpu.Shares != 512 || cpu.Quota == nil || *cpu.Quota != 50000 ||
		cpu.Period == nil || *cpu.Period != 100000 || cpu.Cpus != "0-1" || cpu.Mems != "0" {
		t.Errorf("cpu = %+v, want shares 512, quota 50000, period 100000, cpus 0-1, mems 0", cpu)
	}
	if mem := res.Memory; mem == nil || mem.Limit == nil || *mem.Limit != 256<<20 {
		t.Errorf("memory = %+v, want limit %d", mem, 256<<20)
	}
	wantHuge := []rspec.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}, {Pagesize: "1GB", Limit: 1 << 30}}
	if !slices.Equal(res.HugepageLimits, wantHuge) {
		t.Errorf("hugepage limits = %+v, want %+v", res.HugepageLimits, wantHuge)
	}
	if adj := s.Process.OOMScoreAdj; adj == nil || *adj != 500 {
		t.Errorf("OOM score adj = %v, want 500", adj)
	}
}

func TestBuildSpecMemorySwap(t *testing.T) {
	tests := []struct {
		name              string
		limit, swap, want int64
	}{
		{"swap unset: equal to the limit", 256 << 20, 0, 256 << 20},
		{"swap set", 256 << 20, 512 << 20, 512 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				r := resources(in)
				r.MemoryLimit, r.MemorySwapLimit = tt.limit, tt.swap
			})
			if mem := s.Linux.Resources.Memory; mem == nil || mem.Swap == nil || *mem.Swap != tt.want {
				t.Errorf("memory = %+v, want swap %d", mem, tt.want)
			}
		})
	}
}

// The test host's floor is -500: lower asks are raised to it.
func TestBuildSpecOOMScoreAdj(t *testing.T) {
	for _, tt := range []struct{ ask, want int }{{-1000, -500}, {-998, -500}, {0, 0}, {500, 500}, {1000, 1000}} {
		s := buildSpec(t, func(in *testCase) { resources(in).OOMScoreAdj = int64(tt.ask) })
		if adj := s.Process.OOMScoreAdj; adj == nil || *adj != tt.want {
			t.Errorf("OOM score adj for %d = %v, want %d", tt.ask, adj, tt.want)
		}
	}
}

func TestClampOOMScoreAdj(t *testing.T) {
	tests := []struct {
		min, ask, want int
	}{
		{-1000, -2000, -1000},
		{-1000, -1000, -1000},
		{-1000, -999, -999},
		{-1000, 0, 0},
		{-1000, 1000, 1000},
		{-500, -1000, -500},
		{-500, -998, -500},
		{-500, -500, -500},
		{-500, -499, -499},
		{-500, 0, 0},
		{-500, 1000, 1000},
		{0, -1000, 0},
		{0, -1, 0},
		{0, 0, 0},
		{0, 1, 1},
		{0, 999, 999},
	}
	for _, tt := range tests {
		h := &Host{MinOOMScoreAdj: tt.min}
		if got := h.ClampOOMScoreAdj(tt.ask); got != tt.want {
			t.Errorf("ClampOOMScoreAdj(%d) with floor %d = %d, want %d", tt.ask, tt.min, got, tt.want)
		}
	}
}

func TestBuildSpecCgroupsPathAndAnnotations(t *testing.T) {
	s := buildSpec(t, func(in *testCase) {
		in.CgroupsPath = "kubepods-pod1.slice:berth:ctr-1"
		in.Container.Annotations = map[string]string{
			"a": "1", "io.example/b": "two",
			// What OCI runtimes act on, and berth's own, never come from the pod.
			"run.oci.keep_original_groups": "1", "run.oci.systemd.subgroup": "x", "org.criu.config": "/etc/shadow",
			"io.kubernetes.cri.sandbox-id": "another-pod", "io.kubernetes.cri.container-type": "sandbox",
		}
	})
	if s.Linux.CgroupsPath != "kubepods-pod1.slice:berth:ctr-1" {
		t.Errorf("cgroups path = %q", s.Linux.CgroupsPath)
	}
	want := map[string]string{"a": "1", "io.example/b": "two", "io.kubernetes.cri.sandbox-id": testPod.ID, "io.kubernetes.cri.container-type": "container"}
	for k, v := range want {
		if got, ok := s.Annotations[k]; !ok || got != v {
			t.Errorf("annotation %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	for k := range s.Annotations {
		if _, ok := want[k]; !ok {
			t.Errorf("annotation %s = %q reached the spec", k, s.Annotations[k])
		}
	}
}

func TestBuildSpecAddAllDropOne(t *testing.T) {
	s := buildSpec(t, func(in *testCase) {
		sc := securityContext(in)
		sc.CapAdd, sc.CapDrop = []string{"ALL"}, []string{"CHOWN"}
	})
	if slices.Contains(s.Process.Capabilities.Bounding, "CAP_CHOWN") || !slices.Contains(s.Process.Capabilities.Bounding, "CAP_KILL") {
		t.Fatalf("add ALL, drop CHOWN gave %q", s.Process.Capabilities.Bounding)
	}
}

// procMount: kubelet sends its default lists for Default and empty ones
// (nil once decoded; the server's tests cover the wire) for Unmasked, which
// the API server allows only in a pod with a user namespace.
func TestBuildSpecProcMount(t *testing.T) {
	kubeletMasked := append(slices.Clone(DefaultMaskedPaths), "/sys/devices/system/cpu/cpu0/thermal_throttle")
	tests := []struct {
		name                   string
		userNS                 bool
		masked, readonly       []string
		wantMasked, wantRdonly []string
	}{
		{"kubelet Default", false, kubeletMasked, DefaultReadonlyPaths, kubeletMasked, DefaultReadonlyPaths},
		{"kubelet Default in a user namespace", true, kubeletMasked, DefaultReadonlyPaths, kubeletMasked, DefaultReadonlyPaths},
		{"kubelet Unmasked", true, nil, nil, nil, nil},
		{"no lists (crictl) in a user namespace", true, nil, nil, nil, nil},
		{"no lists (crictl) with the host's users", false, nil, nil, DefaultMaskedPaths, DefaultReadonlyPaths},
		{"masked paths only", false, []string{"/bin/ls"}, nil, []string{"/bin/ls"}, DefaultReadonlyPaths},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				in.Pod.UserNS = tt.userNS
				sc := securityContext(in)
				sc.MaskedPaths, sc.ReadonlyPaths = tt.masked, tt.readonly
			})
			if !slices.Equal(s.Linux.MaskedPaths, tt.wantMasked) || !slices.Equal(s.Linux.ReadonlyPaths, tt.wantRdonly) {
				t.Errorf("masked %q, read-only %q; want %q, %q", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, tt.wantMasked, tt.wantRdonly)
			}
		})
	}
}
