package cgroups

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hybridMountinfo is the cgroup part of this project's test machine's
// /proc/self/mountinfo (Debian 12, no systemd as PID 1): v1 hierarchies
// without hugetlb, net_cls or perf_event, and a controller-less cgroup2 at
// ROOT/unified. ROOT stands for the cgroup root.
const hybridMountinfo = `22 1 0:20 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
31 23 0:28 / ROOT rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / ROOT/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / ROOT/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / ROOT/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / ROOT/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / ROOT/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / ROOT/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / ROOT/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / ROOT/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / ROOT/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / ROOT/unified rw,relatime - cgroup2 cgroup2 rw
`

// hugetlbLine adds a hugetlb hierarchy to hybridMountinfo.
const hugetlbLine = "42 31 0:39 / ROOT/hugetlb rw,relatime - cgroup cgroup rw,hugetlb\n"

// coMountedMountinfo is a v1 host (systemd's usual layout) with cpu and
// cpuacct, and net_cls and net_prio, sharing a hierarchy, plus a bind mount
// of part of the memory hierarchy elsewhere.
const coMountedMountinfo = `25 18 0:22 / ROOT ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / ROOT/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
29 25 0:26 / ROOT/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / ROOT/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,net_cls,net_prio
31 25 0:28 / ROOT/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
32 25 0:29 / ROOT/hugetlb rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,hugetlb
90 1 0:28 /kubepods /var/lib/x/memory rw,relatime - cgroup cgroup rw,memory
`

// unifiedMountinfo is a cgroup v2 host.
const unifiedMountinfo = `22 1 0:20 / / rw,relatime - ext4 /dev/sda1 rw
30 22 0:26 / ROOT rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

func TestProbeFrom(t *testing.T) {
	tests := []struct {
		name      string
		mountinfo string
		// files are made under the cgroup root (name → content).
		files     map[string]string
		wantMode  Mode
		want      []string          // the usable controllers
		wantMount map[string]string // controller → mount point under ROOT
		wantSwap  bool
	}{
		{
			name:      "this hybrid host: no hugetlb, v2 controllers do not count",
			mountinfo: hybridMountinfo,
			files:     map[string]string{"memory/memory.memsw.limit_in_bytes": "9223372036854771712\n", "unified/cgroup.controllers": "hugetlb\n"},
			wantMode:  Legacy,
			want:      []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"},
			wantMount: map[string]string{"cpu": "cpu", "cpuacct": "cpuacct", "memory": "memory"},
			wantSwap:  true,
		},
		{
			name:      "hybrid without swap accounting",
			mountinfo: hybridMountinfo,
			files:     map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"},
			wantMode:  Legacy,
			want:      []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"},
		},
		{
			name:      "hybrid with hugetlb",
			mountinfo: hybridMountinfo + hugetlbLine,
			wantMode:  Legacy,
			want:      []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "pids"},
			wantMount: map[string]string{"hugetlb": "hugetlb"},
		},
		{
			name:      "co-mounted cpu,cpuacct; a bind mount does not move a hierarchy",
			mountinfo: coMountedMountinfo,
			files:     map[string]string{"memory/memory.memsw.limit_in_bytes": "0\n"},
			wantMode:  Legacy,
			want:      []string{"cpu", "cpuacct", "hugetlb", "memory", "net_cls", "net_prio"},
			wantMount: map[string]string{"cpu": "cpu,cpuacct", "cpuacct": "cpu,cpuacct", "net_prio": "net_cls,net_prio", "memory": "memory"},
			wantSwap:  true,
		},
		{
			name:      "unified without hugetlb",
			mountinfo: unifiedMountinfo,
			files:     map[string]string{"cgroup.controllers": "cpuset cpu io memory pids\n"},
			wantMode:  Unified,
			want:      []string{"cpu", "cpuset", "io", "memory", "pids"},
			wantMount: map[string]string{"cpu": "", "memory": "", "io": ""},
			wantSwap:  true,
		},
		{
			name:      "unified without memory",
			mountinfo: unifiedMountinfo,
			files:     map[string]string{"cgroup.controllers": "cpu pids hugetlb\n"},
			wantMode:  Unified,
			want:      []string{"cpu", "hugetlb", "pids"},
		},
		{
			name:      "unified with no controller delegated",
			mountinfo: unifiedMountinfo,
			files:     map[string]string{"cgroup.controllers": "\n"},
			wantMode:  Unified,
			want:      []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			h, err := ProbeFrom(strings.NewReader(strings.ReplaceAll(tt.mountinfo, "ROOT", root)), root)
			if err != nil {
				t.Fatalf("ProbeFrom: %v", err)
			}
			if h.Mode() != tt.wantMode {
				t.Errorf("mode = %v, want %v", h.Mode(), tt.wantMode)
			}
			if got := h.Controllers(); !slices.Equal(got, tt.want) {
				t.Errorf("controllers = %q, want %q", got, tt.want)
			}
			for c, rel := range tt.wantMount {
				if got, ok := h.Mountpoint(c); !ok || got != filepath.Join(root, rel) {
					t.Errorf("mount point of %s = %q, %v; want %q", c, got, ok, filepath.Join(root, rel))
				}
			}
			if h.SwapAccounting() != tt.wantSwap {
				t.Errorf("swap accounting = %v, want %v", h.SwapAccounting(), tt.wantSwap)
			}
			if h.Has("hugetlb") != slices.Contains(tt.want, "hugetlb") {
				t.Errorf("Has(hugetlb) = %v", h.Has("hugetlb"))
			}
		})
	}
}

func TestProbeFromErrors(t *testing.T) {
	root := t.TempDir()
	tests := []struct{ name, mountinfo string }{
		{"no cgroup mounted", "22 1 0:20 / / rw,relatime - ext4 /dev/sda1 rw\n"},
		{"only name=systemd", "40 31 0:37 / ROOT/systemd rw - cgroup cgroup rw,name=systemd\n"},
		{"unified without cgroup.controllers", unifiedMountinfo},
		{"unreadable mountinfo", "not a mountinfo line\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ProbeFrom(strings.NewReader(strings.ReplaceAll(tt.mountinfo, "ROOT", root)), root)
			if err == nil {
				t.Fatalf("ProbeFrom = %+v, want an error", h)
			}
		})
	}
}

func TestNewHost(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"memory/memory.memsw.limit_in_bytes": "0\n"})
	h, err := NewHost(Legacy, root, "cpu", "memory")
	if err != nil {
		t.Fatal(err)
	}
	if dir, ok := h.Dir("memory", "/kubepods/pod1"); !ok || dir != filepath.Join(root, "memory/kubepods/pod1") {
		t.Errorf("Dir(memory) = %q, %v", dir, ok)
	}
	if _, ok := h.Dir("hugetlb", "/kubepods/pod1"); ok {
		t.Error("Dir(hugetlb) is ok on a host without hugetlb")
	}
	if !h.SwapAccounting() {
		t.Error("no swap accounting with memory.memsw.limit_in_bytes present")
	}

	h, err = NewHost(Unified, root, "cpu", "memory")
	if err != nil {
		t.Fatal(err)
	}
	if dir, ok := h.Dir("cpu", "/kubepods.slice"); !ok || dir != filepath.Join(root, "kubepods.slice") {
		t.Errorf("Dir(cpu) = %q, %v", dir, ok)
	}
	if _, err := NewHost(Mode(0), root); err == nil {
		t.Error("NewHost accepted mode 0")
	}
}

// writeFiles makes each file (path relative to root → content).
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
