package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/spec"
)

const podID = "pod1abcdef"

// The pod cgroup parent kubelet sends with each driver, and where it lives
// in a hierarchy.
var podLayouts = []struct {
	driver, parent, dir string
}{
	{config.CgroupfsDriver, "/kubepods/burstable/pod1", "kubepods/burstable/pod1"},
	{config.SystemdDriver, "kubepods-burstable-pod1.slice", "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"},
}

var (
	v1Controllers = []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"}
	v2Controllers = []string{"cpu", "cpuset", "io", "memory", "pids"}
)

// podResize is a pod-level resize as kubelet sends it, with a hugepage
// limit for a host that may have no hugetlb controller.
var podResize = spec.Resources{
	CPUShares:   512,
	CPUQuota:    50000,
	CPUPeriod:   100000,
	MemoryLimit: 256 << 20,
	Hugepages:   []spec.HugepageLimit{{PageSize: "2MB", Limit: 0}},
}

// podManager is a manager holding one pod whose cgroup parent is parent.
func podManager(driver, parent string, host *cgroups.Host) *Manager {
	rec := Record{ID: podID, Config: Config{Name: "web", Namespace: "default", UID: "1", CgroupParent: parent}}
	return &Manager{
		opts:      Options{CgroupDriver: driver, Host: &spec.Host{Cgroups: host}},
		sandboxes: map[string]*Sandbox{podID: {rec: rec}},
	}
}

func newHost(t *testing.T, mode cgroups.Mode, controllers ...string) *cgroups.Host {
	t.Helper()
	h, err := cgroups.NewHost(mode, t.TempDir(), controllers...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func writeCgroupFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantFiles checks the content of files under dir (name → content).
func wantFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, want := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := strings.TrimSpace(string(data)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func updatePod(t *testing.T, m *Manager) error {
	t.Helper()
	return m.UpdateResources(podID, podResize)
}

func TestUpdateResourcesV1(t *testing.T) {
	for _, layout := range podLayouts {
		t.Run(layout.driver, func(t *testing.T) {
			root := t.TempDir()
			// The hierarchies of this project's hybrid test host: no hugetlb.
			for _, c := range v1Controllers {
				if err := os.MkdirAll(filepath.Join(root, c, layout.dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			writeCgroupFile(t, filepath.Join(root, "memory/memory.memsw.limit_in_bytes"), "9223372036854771712\n")
			pod := filepath.Join(root, "memory", layout.dir)
			writeCgroupFile(t, filepath.Join(pod, "memory.limit_in_bytes"), "9223372036854771712\n")
			writeCgroupFile(t, filepath.Join(pod, "memory.memsw.limit_in_bytes"), "9223372036854771712\n")
			host, err := cgroups.NewHost(cgroups.Legacy, root, v1Controllers...)
			if err != nil {
				t.Fatal(err)
			}

			if err := updatePod(t, podManager(layout.driver, layout.parent, host)); err != nil {
				t.Fatalf("UpdateResources: %v", err)
			}
			wantFiles(t, filepath.Join(root, "cpu", layout.dir), map[string]string{
				"cpu.shares": "512", "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000",
			})
			wantFiles(t, pod, map[string]string{
				"memory.limit_in_bytes": "268435456", "memory.memsw.limit_in_bytes": "268435456",
			})
			if _, err := os.Stat(filepath.Join(root, "hugetlb")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a hugetlb hierarchy was written to on a host without one: %v", err)
			}
		})
	}
}

func TestUpdateResourcesV2(t *testing.T) {
	for _, layout := range podLayouts {
		t.Run(layout.driver, func(t *testing.T) {
			host := newHost(t, cgroups.Unified, v2Controllers...) // no hugetlb
			pod := filepath.Join(host.Root(), layout.dir)
			if err := os.MkdirAll(pod, 0o755); err != nil {
				t.Fatal(err)
			}

			if err := updatePod(t, podManager(layout.driver, layout.parent, host)); err != nil {
				t.Fatalf("UpdateResources: %v", err)
			}
			wantFiles(t, pod, map[string]string{
				"cpu.max": "50000 100000", "memory.max": "268435456", "memory.swap.max": "0",
			})
			if _, err := os.Stat(filepath.Join(pod, "hugetlb.2MB.max")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("hugetlb.2MB.max written on a host without hugetlb: %v", err)
			}
		})
	}
}

func TestUpdateResourcesErrors(t *testing.T) {
	v1 := newHost(t, cgroups.Legacy, v1Controllers...)
	v2 := newHost(t, cgroups.Unified, v2Controllers...)
	tests := []struct {
		name, driver, parent string
		host                 *cgroups.Host
		invalid              bool
	}{
		{"no cgroup parent", config.CgroupfsDriver, "", v1, true},
		{"systemd given a cgroupfs parent", config.SystemdDriver, "/kubepods/pod1", v1, true},
		{"cgroupfs parent with dot-dot", config.CgroupfsDriver, "/kubepods/../../etc", v2, true},
		{"v1 pod cgroup missing", config.CgroupfsDriver, "/kubepods/pod1", v1, false},
		{"v2 pod cgroup missing", config.SystemdDriver, "kubepods-pod1.slice", v2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := updatePod(t, podManager(tt.driver, tt.parent, tt.host))
			if err == nil {
				t.Fatal("UpdateResources succeeded")
			}
			if errors.Is(err, ErrInvalid) != tt.invalid {
				t.Errorf("UpdateResources = %v; wrapping ErrInvalid should be %v", err, tt.invalid)
			}
		})
	}
}

// A host that co-mounts cpu and cpuacct reaches the hierarchy through the
// "cpu" link beside it; without one, the update says so.
func TestUpdateResourcesCoMounted(t *testing.T) {
	for _, link := range []bool{true, false} {
		t.Run(map[bool]string{true: "linked", false: "not linked"}[link], func(t *testing.T) {
			root := t.TempDir()
			mountinfo := strings.NewReplacer("ROOT", root).Replace(
				"29 25 0:26 / ROOT/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n" +
					"31 25 0:28 / ROOT/memory rw,relatime - cgroup cgroup rw,memory\n")
			pod := filepath.Join(root, "cpu,cpuacct", "kubepods/pod1")
			if err := os.MkdirAll(pod, 0o755); err != nil {
				t.Fatal(err)
			}
			if link {
				if err := os.Symlink("cpu,cpuacct", filepath.Join(root, "cpu")); err != nil {
					t.Fatal(err)
				}
			}
			host, err := cgroups.ProbeFrom(strings.NewReader(mountinfo), root)
			if err != nil {
				t.Fatal(err)
			}
			err = updatePod(t, podManager(config.CgroupfsDriver, "/kubepods/pod1", host))
			if !link {
				if err == nil || !strings.Contains(err.Error(), "cpu,cpuacct") {
					t.Fatalf("UpdateResources = %v, want an error naming the co-mounted hierarchy", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("UpdateResources: %v", err)
			}
			wantFiles(t, pod, map[string]string{"cpu.shares": "512", "cpu.cfs_quota_us": "50000"})
		})
	}
}
