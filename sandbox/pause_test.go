package sandbox

import (
	"maps"
	"slices"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

var pauseCommand = []string{"/usr/bin/catatonit", "-P"}

// testPauseOOMScore is the clamped OOM score the tests' pause gets: a
// host where berth may not go below -500.
const testPauseOOMScore = -500

func testPauseSpec(t *testing.T, ns Namespaces, sysctls map[string]string) *rspec.Spec {
	t.Helper()
	rec := &Record{
		ID:          "abc123",
		NetNS:       "/run/berth/netns/abc123",
		CgroupsPath: "/kubepods/pod1/berth-abc123",
		Config:      Config{Name: "web-0", Namespace: "default", Namespaces: ns, Sysctls: sysctls},
	}
	if ns.HostNetwork {
		rec.NetNS = ""
	}
	spec, err := pauseSpec(rec, "/var/lib/berth/pause", pauseCommand, "web-0", testPauseOOMScore)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Process == nil || spec.Linux == nil || spec.Root == nil {
		t.Fatalf("spec lacks process, linux or root: %+v", spec)
	}
	return spec
}

// namespace returns the spec's namespace of type typ, if any.
func namespace(spec *rspec.Spec, typ rspec.LinuxNamespaceType) (rspec.LinuxNamespace, bool) {
	for _, n := range spec.Linux.Namespaces {
		if n.Type == typ {
			return n, true
		}
	}
	return rspec.LinuxNamespace{}, false
}

func TestPauseSpecProcess(t *testing.T) {
	spec := testPauseSpec(t, Namespaces{}, nil)
	if spec.Root.Path != "/var/lib/berth/pause" || !spec.Root.Readonly {
		t.Errorf("root = %+v; want the pause rootfs, read-only", spec.Root)
	}
	p := spec.Process
	if want := []string{"/pause", "-P"}; !slices.Equal(p.Args, want) {
		t.Errorf("args = %q; want %q", p.Args, want)
	}
	if p.User.UID != 65535 || p.User.GID != 65535 {
		t.Errorf("user = %d:%d; want 65535:65535", p.User.UID, p.User.GID)
	}
	if c := p.Capabilities; c != nil {
		for name, set := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "inheritable": c.Inheritable, "permitted": c.Permitted, "ambient": c.Ambient} {
			if len(set) != 0 {
				t.Errorf("%s capabilities = %v; want none", name, set)
			}
		}
	}
	if !p.NoNewPrivileges {
		t.Error("NoNewPrivileges is off")
	}
	if p.OOMScoreAdj == nil || *p.OOMScoreAdj != testPauseOOMScore {
		t.Errorf("OOMScoreAdj = %v; want %d", p.OOMScoreAdj, testPauseOOMScore)
	}
	if got := spec.Linux.CgroupsPath; got != "/kubepods/pod1/berth-abc123" {
		t.Errorf("cgroupsPath = %q", got)
	}
}

func TestPauseSpecBindsPauseBinary(t *testing.T) {
	spec := testPauseSpec(t, Namespaces{}, nil)
	i := slices.IndexFunc(spec.Mounts, func(m rspec.Mount) bool { return m.Destination == "/pause" })
	if i < 0 {
		t.Fatalf("no mount at /pause: %+v", spec.Mounts)
	}
	m := spec.Mounts[i]
	if m.Source != "/usr/bin/catatonit" || m.Type != "bind" || !slices.Contains(m.Options, "bind") || !slices.Contains(m.Options, "ro") {
		t.Errorf("/pause mount = %+v; want a read-only bind of /usr/bin/catatonit", m)
	}
}

func TestPauseSpecNamespaces(t *testing.T) {
	all := []rspec.LinuxNamespaceType{rspec.MountNamespace, rspec.NetworkNamespace, rspec.UTSNamespace, rspec.IPCNamespace, rspec.PIDNamespace}
	tests := []struct {
		name     string
		ns       Namespaces
		absent   []rspec.LinuxNamespaceType
		hostname string
	}{
		{name: "pod", hostname: "web-0"},
		{name: "host network", ns: Namespaces{HostNetwork: true}, absent: []rspec.LinuxNamespaceType{rspec.NetworkNamespace, rspec.UTSNamespace}},
		{name: "host IPC", ns: Namespaces{HostIPC: true}, absent: []rspec.LinuxNamespaceType{rspec.IPCNamespace}, hostname: "web-0"},
		{name: "host PID", ns: Namespaces{HostPID: true}, absent: []rspec.LinuxNamespaceType{rspec.PIDNamespace}, hostname: "web-0"},
		{name: "shared PID", ns: Namespaces{SharedPID: true}, hostname: "web-0"},
		{
			name:   "all host",
			ns:     Namespaces{HostNetwork: true, HostIPC: true, HostPID: true},
			absent: []rspec.LinuxNamespaceType{rspec.NetworkNamespace, rspec.UTSNamespace, rspec.IPCNamespace, rspec.PIDNamespace},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := testPauseSpec(t, tt.ns, nil)
			for _, typ := range all {
				n, ok := namespace(spec, typ)
				if want := !slices.Contains(tt.absent, typ); ok != want {
					t.Errorf("%s namespace present = %v; want %v", typ, ok, want)
				}
				if ok && typ == rspec.NetworkNamespace && n.Path != "/run/berth/netns/abc123" {
					t.Errorf("network namespace path = %q; want the pinned netns", n.Path)
				}
				if ok && typ != rspec.NetworkNamespace && n.Path != "" {
					t.Errorf("%s namespace path = %q; want a new namespace", typ, n.Path)
				}
			}
			if spec.Hostname != tt.hostname {
				t.Errorf("hostname = %q; want %q", spec.Hostname, tt.hostname)
			}
		})
	}
}

func TestPauseSpecSysctls(t *testing.T) {
	spec := testPauseSpec(t, Namespaces{}, map[string]string{"net/ipv4/ip_forward": "1", "kernel.shmmax": "4096"})
	want := map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "4096"}
	if !maps.Equal(spec.Linux.Sysctl, want) {
		t.Errorf("sysctls = %v; want %v", spec.Linux.Sysctl, want)
	}
}
