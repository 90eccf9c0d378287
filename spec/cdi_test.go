package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

// cdiSpec is a vendor's CDI spec: device "one" gives a device node (the
// host's /dev/null under another name), a mount and an env var; the spec
// gives every device of it a second env var.
func cdiSpec(t *testing.T, mountSrc string) string {
	t.Helper()
	dir := t.TempDir()
	data := `cdiVersion: "0.6.0"
kind: berth.test/dev
containerEdits:
  env: ["BERTH_CDI_VENDOR=yes"]
devices:
- name: one
  containerEdits:
    env: ["BERTH_CDI=one"]
    deviceNodes:
    - path: /dev/berth-one
      hostPath: /dev/null
    mounts:
    - hostPath: ` + mountSrc + `
      containerPath: /cdi/one
      options: ["ro", "bind"]
`
	if err := os.WriteFile(filepath.Join(dir, "berth-test.yaml"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func checkCDIDeviceOne(t *testing.T, s *rspec.Spec, mountSrc string) {
	t.Helper()
	var node *rspec.LinuxDevice
	for i, d := range s.Linux.Devices {
		if d.Path == "/dev/berth-one" {
			node = &s.Linux.Devices[i]
		}
	}
	if node == nil || node.Type != "c" || node.Major != 1 || node.Minor != 3 {
		t.Fatalf("device node /dev/berth-one: %+v; want /dev/null's c 1:3", node)
	}
	allowed := slices.ContainsFunc(s.Linux.Resources.Devices, func(r rspec.LinuxDeviceCgroup) bool {
		return r.Allow && r.Type == "c" && r.Major != nil && *r.Major == 1 && r.Minor != nil && *r.Minor == 3
	})
	if !allowed {
		t.Errorf("the device cgroup does not allow c 1:3: %+v", s.Linux.Resources.Devices)
	}
	if m, ok := findMount(s, "/cdi/one"); !ok || m.Source != mountSrc {
		t.Errorf("mount /cdi/one: %+v, %v; want a bind of %s", m, ok, mountSrc)
	}
	for _, e := range []string{"BERTH_CDI=one", "BERTH_CDI_VENDOR=yes"} {
		if !slices.Contains(s.Process.Env, e) {
			t.Errorf("env %v lacks %s", s.Process.Env, e)
		}
	}
}

func TestBuildSpecCDIDevices(t *testing.T) {
	mountSrc := t.TempDir()
	dir := cdiSpec(t, mountSrc)
	t.Run("cdi_devices", func(t *testing.T) {
		s := buildSpec(t, func(in *testCase) {
			in.Host.CDI = NewCDI([]string{dir})
			in.Container.CDIDevices = []string{"berth.test/dev=one"}
		})
		checkCDIDeviceOne(t, s, mountSrc)
	})
	t.Run("annotation", func(t *testing.T) {
		s := buildSpec(t, func(in *testCase) {
			in.Host.CDI = NewCDI([]string{dir})
			in.Container.Annotations = map[string]string{"cdi.k8s.io/berth-test_one": "berth.test/dev=one"}
		})
		checkCDIDeviceOne(t, s, mountSrc)
	})
	t.Run("a spec written after start-up", func(t *testing.T) {
		later := t.TempDir()
		cdi := NewCDI([]string{later})
		data, _ := os.ReadFile(filepath.Join(dir, "berth-test.yaml"))
		if err := os.WriteFile(filepath.Join(later, "berth-test.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s := buildSpec(t, func(in *testCase) {
			in.Host.CDI = cdi
			in.Container.CDIDevices = []string{"berth.test/dev=one"}
		})
		checkCDIDeviceOne(t, s, mountSrc)
	})
}

func TestBuildSpecCDIRefusals(t *testing.T) {
	dir := cdiSpec(t, t.TempDir())
	for _, tt := range []struct {
		name string
		cdi  *CDI
		c    Container
		want string
	}{
		{"unknown device", NewCDI([]string{dir}), Container{CDIDevices: []string{"berth.test/dev=two"}}, "berth.test/dev=two"},
		{"unknown vendor", NewCDI([]string{dir}), Container{CDIDevices: []string{"other.test/dev=one"}}, "other.test/dev=one"},
		{"a bad annotation", NewCDI([]string{dir}), Container{Annotations: map[string]string{"cdi.k8s.io/x": "not-qualified"}}, "not-qualified"},
		{"CDI off", nil, Container{CDIDevices: []string{"berth.test/dev=one"}}, "CDI is off"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			in.Host.CDI = tt.cdi
			*in.Container = tt.c
			_, err := in.Host.Build(in.Input)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build: %v; want an error naming %q", err, tt.want)
			}
			testInvalid(t, []invalidCase{{tt.name, func(t *testing.T, in *testCase) { in.Host.CDI = tt.cdi; *in.Container = tt.c }}})
		})
	}
}
