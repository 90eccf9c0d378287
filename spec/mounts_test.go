package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

// hostDir is a new host directory, its symlinks resolved as the spec has it.
func hostDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// hostFile is a new regular host file.
func hostFile(t testing.TB) string {
	t.Helper()
	f := filepath.Join(hostDir(t), "file")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// hostSymlink is a new host symlink to target.
func hostSymlink(t *testing.T, target string) string {
	t.Helper()
	link := filepath.Join(hostDir(t), "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

func addMount(in *testCase, m Mount) {
	in.Container.Mounts = append(in.Container.Mounts, m)
}

type mountWant struct {
	typ, src string
	ro       bool
}

func TestBuildSpecPodMounts(t *testing.T) {
	defaults := map[string]mountWant{
		"/dev/shm":         {"bind", testPod.ShmPath, false},
		"/dev/mqueue":      {"mqueue", "mqueue", false},
		"/etc/hosts":       {"bind", testPod.HostsPath, false},
		"/etc/resolv.conf": {"bind", testPod.ResolvConfPath, false},
		"/etc/hostname":    {"bind", testPod.HostnamePath, false},
		"/sys/fs/cgroup":   {"cgroup", "cgroup", true},
		"/sys":             {"sysfs", "sysfs", true},
	}
	// with is the default mounts with some changed.
	with := func(changes map[string]mountWant) map[string]mountWant {
		out := map[string]mountWant{}
		for dst, m := range defaults {
			out[dst] = m
		}
		for dst, m := range changes {
			out[dst] = m
		}
		return out
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, in *testCase)
		want   map[string]mountWant // by destination
	}{
		{
			name: "defaults",
			want: defaults,
		},
		{
			name:   "host /dev/shm",
			mutate: func(t *testing.T, in *testCase) { in.Pod.ShmPath = "" },
			want:   with(map[string]mountWant{"/dev/shm": {"bind", "/dev/shm", false}}),
		},
		{
			name:   "host IPC",
			mutate: func(t *testing.T, in *testCase) { in.Pod.HostIPC, in.Pod.ShmPath = true, "" },
			want: with(map[string]mountWant{
				"/dev/shm":    {"bind", "/dev/shm", false},
				"/dev/mqueue": hostMqueue(),
			}),
		},
		{
			name:   "read-only rootfs",
			mutate: func(t *testing.T, in *testCase) { securityContext(in).ReadonlyRootfs = true },
			want: with(map[string]mountWant{
				"/etc/hosts":       {"bind", testPod.HostsPath, true},
				"/etc/resolv.conf": {"bind", testPod.ResolvConfPath, true},
				"/etc/hostname":    {"bind", testPod.HostnamePath, true},
			}),
		},
		{
			name: "privileged",
			mutate: func(t *testing.T, in *testCase) {
				in.Pod.Privileged = true
				securityContext(in).Privileged = true
			},
			want: with(map[string]mountWant{
				"/sys/fs/cgroup": {"cgroup", "cgroup", false},
				"/sys":           {"sysfs", "sysfs", false},
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				if tt.mutate != nil {
					tt.mutate(t, in)
				}
			})
			seen := map[string]bool{}
			for _, m := range s.Mounts {
				if seen[m.Destination] {
					t.Errorf("two mounts at %s", m.Destination)
				}
				seen[m.Destination] = true
			}
			for dst, want := range tt.want {
				m, ok := findMount(s, dst)
				if !ok {
					t.Errorf("no mount at %s", dst)
					continue
				}
				if m.Type != want.typ || m.Source != want.src || slices.Contains(m.Options, "ro") != want.ro {
					t.Errorf("mount at %s = %s from %s %q; want %s from %s, read-only %v", dst, m.Type, m.Source, m.Options, want.typ, want.src, want.ro)
				}
				if m.Type == "bind" && !slices.Contains(m.Options, "rbind") {
					t.Errorf("bind mount at %s has options %q, want rbind", dst, m.Options)
				}
			}
		})
	}
}

// criMount describes a CRI mount of a new host directory.
type criMount struct {
	dst      string
	prop     Propagation
	ro, rro  bool
	wantOpts []string
}

func TestBuildSpecCRIMounts(t *testing.T) {
	private, hostToCtr, bidi := PropagationPrivate, PropagationHostToContainer, PropagationBidirectional
	tests := []struct {
		name         string
		mounts       []criMount
		wantRootProp string
	}{
		{"private", []criMount{{dst: "/data", prop: private, wantOpts: []string{"rbind", "rprivate"}}}, ""},
		{"read-only", []criMount{{dst: "/data", ro: true, wantOpts: []string{"rbind", "rprivate", "ro"}}}, ""},
		{"recursive read-only", []criMount{{dst: "/data", ro: true, rro: true, wantOpts: []string{"rbind", "rprivate", "rro"}}}, ""},
		{"host to container", []criMount{{dst: "/data", prop: hostToCtr, wantOpts: []string{"rbind", "rslave"}}}, "rslave"},
		{"host to container read-only", []criMount{{dst: "/data", prop: hostToCtr, ro: true, wantOpts: []string{"rbind", "rslave", "ro"}}}, "rslave"},
		{"bidirectional", []criMount{{dst: "/data", prop: bidi, wantOpts: []string{"rbind", "rshared"}}}, "rshared"},
		{"bidirectional then host to container", []criMount{
			{dst: "/a", prop: bidi, wantOpts: []string{"rbind", "rshared"}},
			{dst: "/a/b", prop: hostToCtr, wantOpts: []string{"rbind", "rslave"}},
		}, "rshared"},
		{"host to container then bidirectional", []criMount{
			{dst: "/a", prop: hostToCtr, wantOpts: []string{"rbind", "rslave"}},
			{dst: "/a/b", prop: bidi, wantOpts: []string{"rbind", "rshared"}},
		}, "rshared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := map[string]string{}
			s := buildSpec(t, func(in *testCase) {
				for _, m := range tt.mounts {
					src[m.dst] = hostDir(t)
					addMount(in, Mount{ContainerPath: m.dst, HostPath: src[m.dst], Propagation: m.prop, Readonly: m.ro, RecursiveReadOnly: m.rro})
					if m.rro {
						in.RecursiveReadOnly = true // the runtime can
					}
				}
			})
			for _, want := range tt.mounts {
				m, ok := findMount(s, want.dst)
				if !ok || m.Type != "bind" || m.Source != src[want.dst] || !slices.Equal(m.Options, want.wantOpts) {
					t.Errorf("mount at %s = %+v (present %v), want a bind of %s with %q", want.dst, m, ok, src[want.dst], want.wantOpts)
				}
			}
			if s.Linux.RootfsPropagation != tt.wantRootProp {
				t.Errorf("rootfs propagation = %q, want %q", s.Linux.RootfsPropagation, tt.wantRootProp)
			}
		})
	}
}

func TestBuildSpecCRIMountReplacesPodMount(t *testing.T) {
	for _, dst := range []string{"/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/dev/shm", "/dev/mqueue", "/sys/fs/cgroup"} {
		t.Run(dst, func(t *testing.T) {
			src := hostFile(t)
			s := buildSpec(t, func(in *testCase) { addMount(in, Mount{ContainerPath: dst, HostPath: src}) })
			var got []rspec.Mount
			for _, m := range s.Mounts {
				if m.Destination == dst {
					got = append(got, m)
				}
			}
			if len(got) != 1 || got[0].Type != "bind" || got[0].Source != src {
				t.Errorf("mounts at %s = %+v, want only a bind of %s", dst, got, src)
			}
		})
	}
}

func TestBuildSpecCRIMountSymlink(t *testing.T) {
	target := hostDir(t)
	link := hostSymlink(t, target)
	s := buildSpec(t, func(in *testCase) { addMount(in, Mount{ContainerPath: "/data", HostPath: link}) })
	if m, ok := findMount(s, "/data"); !ok || m.Source != target {
		t.Errorf("mount at /data = %+v (present %v), want the symlink's target %s", m, ok, target)
	}
}

func TestBuildSpecCRIMountOrder(t *testing.T) {
	dsts := []string{"/data/a/b", "/other", "/data", "/data/a/", "/data/a/b/c"}
	s := buildSpec(t, func(in *testCase) {
		for _, dst := range dsts {
			addMount(in, Mount{ContainerPath: dst, HostPath: hostDir(t)})
		}
	})
	index := func(dst string) int {
		return slices.IndexFunc(s.Mounts, func(m rspec.Mount) bool { return m.Destination == dst })
	}
	for _, dst := range dsts {
		if index(dst) < 0 {
			t.Fatalf("no mount at %s in %+v", dst, s.Mounts)
		}
	}
	for _, pair := range [][2]string{{"/data", "/data/a/"}, {"/data/a/", "/data/a/b"}, {"/data/a/b", "/data/a/b/c"}} {
		if parent, child := index(pair[0]), index(pair[1]); parent > child {
			t.Errorf("mount at %s (#%d) after its child %s (#%d)", pair[0], parent, pair[1], child)
		}
	}
}

func TestBuildSpecDevices(t *testing.T) {
	// devDir is a host directory holding a device (a symlink to /dev/null).
	devDir := func(t *testing.T) string {
		t.Helper()
		dir := hostDir(t)
		if err := os.Symlink("/dev/null", filepath.Join(dir, "null")); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name       string
		hostPath   func(t *testing.T) string
		dst, perms string
		wantPath   string // the device's container path
		wantAccess string
	}{
		{"device", func(*testing.T) string { return "/dev/null" }, "/dev/mynull", "rw", "/dev/mynull", "rw"},
		{"default permissions", func(*testing.T) string { return "/dev/null" }, "/dev/mynull", "", "/dev/mynull", "rwm"},
		{"symlink to a device", func(t *testing.T) string { return hostSymlink(t, "/dev/null") }, "/dev/mynull", "r", "/dev/mynull", "r"},
		{"directory of devices", devDir, "/dev/dir", "rm", "/dev/dir/null", "rm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				in.Container.Devices = []Device{{HostPath: tt.hostPath(t), ContainerPath: tt.dst, Permissions: tt.perms}}
			})
			i := slices.IndexFunc(s.Linux.Devices, func(d rspec.LinuxDevice) bool { return d.Path == tt.wantPath })
			if i < 0 {
				t.Fatalf("no device at %s in %+v", tt.wantPath, s.Linux.Devices)
			}
			if d := s.Linux.Devices[i]; d.Type != "c" || d.Major != 1 || d.Minor != 3 {
				t.Errorf("device = %s %d:%d, want c 1:3", d.Type, d.Major, d.Minor)
			}
			if !slices.ContainsFunc(s.Linux.Resources.Devices, func(r rspec.LinuxDeviceCgroup) bool {
				return r.Allow && r.Type == "c" && r.Major != nil && *r.Major == 1 && r.Minor != nil && *r.Minor == 3 && r.Access == tt.wantAccess
			}) {
				t.Errorf("device rules %+v do not allow c 1:3 %s", s.Linux.Resources.Devices, tt.wantAccess)
			}
		})
	}
}

func TestBuildSpecMountsInvalid(t *testing.T) {
	mount := func(m Mount) func(t *testing.T, in *testCase) {
		return func(t *testing.T, in *testCase) {
			if m.HostPath == "" {
				m.HostPath = hostDir(t)
			}
			addMount(in, m)
		}
	}
	// rro is mount on a runtime that can make recursive read-only mounts.
	rro := func(m Mount) func(t *testing.T, in *testCase) {
		return func(t *testing.T, in *testCase) {
			in.RecursiveReadOnly = true
			mount(m)(t, in)
		}
	}
	device := func(hostPath func(t testing.TB) string, perms string) func(t *testing.T, in *testCase) {
		return func(t *testing.T, in *testCase) {
			in.Container.Devices = []Device{{HostPath: hostPath(t), ContainerPath: "/dev/x", Permissions: perms}}
		}
	}
	// asIs adds a mount without filling in its host path.
	asIs := func(m Mount) func(t *testing.T, in *testCase) {
		return func(t *testing.T, in *testCase) { addMount(in, m) }
	}
	img := "sha256:abc"
	devicePaths := func(host, ctr string) func(t *testing.T, in *testCase) {
		return func(t *testing.T, in *testCase) {
			in.Container.Devices = []Device{{HostPath: host, ContainerPath: ctr}}
		}
	}
	devNull := func(testing.TB) string { return "/dev/null" }
	testInvalid(t, []invalidCase{
		{"missing host path", mount(Mount{ContainerPath: "/data", HostPath: "/nonexistent/berth-test"})},
		{"relative container path", mount(Mount{ContainerPath: "data"})},
		{"empty container path", mount(Mount{})},
		{"empty host path and no image", asIs(Mount{ContainerPath: "/data"})},
		{"relative host path", asIs(Mount{ContainerPath: "/data", HostPath: "tmp"})},
		{"dot host path", asIs(Mount{ContainerPath: "/data", HostPath: "."})},
		{"host path and image", asIs(Mount{ContainerPath: "/data", HostPath: "/tmp", Image: img})},
		{"image sub path without an image", asIs(Mount{ContainerPath: "/data", HostPath: "/tmp", ImageSubPath: "etc"})},
		{"absolute image sub path", asIs(Mount{ContainerPath: "/data", Image: img, ImageSubPath: "/etc"})},
		{"image sub path leaving the image", asIs(Mount{ContainerPath: "/data", Image: img, ImageSubPath: "etc/../../x"})},
		{"image relative container path", asIs(Mount{ContainerPath: "data", Image: img})},
		{"device with an empty host path", devicePaths("", "/dev/x")},
		{"device with a relative host path", devicePaths("dev/null", "/dev/x")},
		{"device with an empty container path", devicePaths("/dev/null", "")},
		{"device with a relative container path", devicePaths("/dev/null", "dev/x")},
		{"recursive read-only without read-only", rro(Mount{ContainerPath: "/data", RecursiveReadOnly: true})},
		{"recursive read-only host to container", rro(Mount{ContainerPath: "/data", Readonly: true, RecursiveReadOnly: true,
			Propagation: PropagationHostToContainer})},
		{"recursive read-only bidirectional", rro(Mount{ContainerPath: "/data", Readonly: true, RecursiveReadOnly: true,
			Propagation: PropagationBidirectional})},
		{"recursive read-only on a runtime that cannot", mount(Mount{ContainerPath: "/data", Readonly: true, RecursiveReadOnly: true})},
		{"device permissions", device(devNull, "rwx")},
		{"device is a regular file", device(hostFile, "rw")},
		{"device is a directory without devices", device(hostDir, "rw")},
		{"missing device", device(func(testing.TB) string { return "/nonexistent/berth-test" }, "rw")},
	})
}

func TestBuildSpecCRIMountDoesNotHidePodFiles(t *testing.T) {
	s := buildSpec(t, func(in *testCase) {
		addMount(in, Mount{ContainerPath: "/etc", HostPath: hostDir(t)})
	})
	index := func(dst string) int {
		return slices.IndexFunc(s.Mounts, func(m rspec.Mount) bool { return m.Destination == dst })
	}
	if etc, hosts := index("/etc"), index("/etc/hosts"); etc < 0 || hosts < 0 || etc > hosts {
		t.Fatalf("CRI mount /etc is #%d, the pod's /etc/hosts #%d: the parent must come first", etc, hosts)
	}
}

// hostMqueue is the /dev/mqueue a host-IPC container gets: the host's when
// it has one mounted, else a fresh mqueue mount (which, in the host's IPC
// namespace, shows the host's queues).
func hostMqueue() mountWant {
	if _, err := os.Stat("/dev/mqueue"); err == nil {
		return mountWant{"bind", "/dev/mqueue", false}
	}
	return mountWant{"mqueue", "mqueue", false}
}

func TestBuildSpecUserNamespacePod(t *testing.T) {
	vol := hostDir(t)
	s := buildSpec(t, func(in *testCase) {
		in.Pod.UserNS = true
		m := IDMapping{ContainerID: 0, HostID: 1000, Size: 65536}
		addMount(in, Mount{ContainerPath: "/data", HostPath: vol, UIDMappings: []IDMapping{m}, GIDMappings: []IDMapping{m}})
	})
	if ns, ok := findNamespace(s, rspec.UserNamespace); !ok || ns.Path != "/pins/user" {
		t.Errorf("user namespace = %+v, %v; want pause's /pins/user", ns, ok)
	}
	if len(s.Linux.UIDMappings) != 0 {
		t.Errorf("a joined user namespace takes no mappings of its own, got %+v", s.Linux.UIDMappings)
	}
	// sysfs and cgroupfs cannot be mounted over a netns the pod's user
	// namespace does not own: the host's /sys is bound read-only instead.
	sys, ok := findMount(s, "/sys")
	if !ok || sys.Type != "bind" || sys.Source != "/sys" || !slices.Contains(sys.Options, "ro") {
		t.Errorf("/sys = %+v, %v; want a read-only bind of the host's", sys, ok)
	}
	if m, ok := findMount(s, "/sys/fs/cgroup"); ok {
		t.Errorf("/sys/fs/cgroup mounted on its own (%+v); the /sys bind carries it", m)
	}
	data, ok := findMount(s, "/data")
	want := []rspec.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 65536}}
	if !ok || !slices.Equal(data.UIDMappings, want) || !slices.Equal(data.GIDMappings, want) {
		t.Errorf("/data = %+v; want an idmapped mount with %+v", data, want)
	}
}

func TestBuildSpecImageMounts(t *testing.T) {
	vol := hostDir(t) // stands for the image mounted read-only
	idmap := []IDMapping{{ContainerID: 0, HostID: 1000, Size: 65536}}
	tests := []struct {
		name  string
		mount Mount
		pod   func(*Pod)
	}{
		{"image", Mount{ContainerPath: "/vol"}, nil},
		{"asked read-write", Mount{ContainerPath: "/vol", Readonly: false}, nil},
		{"asked bidirectional", Mount{ContainerPath: "/vol", Propagation: PropagationBidirectional}, nil},
		{"unclean container path", Mount{ContainerPath: "/vol/"}, nil},
		// overlayfs refuses idmapped mounts: runc would fail the create.
		{"user namespace", Mount{ContainerPath: "/vol", UIDMappings: idmap, GIDMappings: idmap}, func(p *Pod) { p.UserNS = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				if tt.pod != nil {
					tt.pod(&in.Pod)
				}
				m := tt.mount
				m.Image = "sha256:abc"
				addMount(in, m)
				in.ImageMounts = map[string]string{"/vol": vol}
			})
			m, ok := findMount(s, tt.mount.ContainerPath)
			want := []string{"rbind", "rprivate", "nodev", "ro"}
			if !ok || m.Type != "bind" || m.Source != vol || !slices.Equal(m.Options, want) || m.UIDMappings != nil || m.GIDMappings != nil {
				t.Errorf("mount = %+v (present %v); want a bind of %s with %q and no ID mappings", m, ok, vol, want)
			}
			if s.Linux.RootfsPropagation != "" {
				t.Errorf("rootfs propagation %q, want none", s.Linux.RootfsPropagation)
			}
		})
	}
}

// An image mount Build has no mounted image for is berth's own bug, not
// the request's: it must not bind whatever its empty host path resolves to.
func TestBuildSpecImageMountNotMounted(t *testing.T) {
	in := testInput(t)
	addMount(&in, Mount{ContainerPath: "/vol", Image: "sha256:abc"})
	s, err := in.Host.Build(in.Input)
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("Build = %v, %v; want an internal error", s != nil, err)
	}
}

// Errors about an image volume carry the prefix kubelet counts image volume
// mount failures by.
func TestCheckMountImageVolumeErrors(t *testing.T) {
	img := "sha256:abc"
	for _, m := range []Mount{
		{ContainerPath: "/data", HostPath: "/tmp", Image: img},
		{ContainerPath: "/data", Image: img, ImageSubPath: "/etc"},
		{ContainerPath: "/data", Image: img, ImageSubPath: ".."},
	} {
		err := checkMount(&m)
		if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrImageVolumeMountFailed) ||
			!strings.HasPrefix(err.Error(), "ImageVolumeMountFailed: ") {
			t.Errorf("checkMount(%+v) = %v; want an invalid config error starting with %q", m, err, "ImageVolumeMountFailed")
		}
	}
}
