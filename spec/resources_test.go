package spec

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/berth-dev/berth/internal/cgroups"
)

// Every controller a v1 or a v2 host can have that berth sets limits with.
var (
	allV1 = []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "pids"}
	allV2 = []string{"cpu", "cpuset", "hugetlb", "io", "memory", "pids"}
)

// testHost is a host with the controllers, its hierarchies in a temporary
// directory; swap makes v1's memory.memsw files.
func testHost(t testing.TB, mode cgroups.Mode, swap bool, controllers ...string) *cgroups.Host {
	t.Helper()
	root := t.TempDir()
	if swap && mode == cgroups.Legacy {
		writeCgroupFiles(t, filepath.Join(root, "memory"), map[string]string{"memory.memsw.limit_in_bytes": "0\n"})
	}
	h, err := cgroups.NewHost(mode, root, controllers...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func writeCgroupFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func without(all []string, missing string) []string {
	return slices.DeleteFunc(slices.Clone(all), func(c string) bool { return c == missing })
}

// kubelet sends a hugepage limit for every page size the kernel has; a host
// without a hugetlb hierarchy must still run the container, without them.
func TestBuildSpecHugepagesFollowHost(t *testing.T) {
	limits := []HugepageLimit{{PageSize: "2MB", Limit: 0}, {PageSize: "1GB", Limit: 0}}
	tests := []struct {
		name string
		host func(t *testing.T) *cgroups.Host
		want []rspec.LinuxHugepageLimit
	}{
		{
			name: "v1 with hugetlb: kept",
			host: func(t *testing.T) *cgroups.Host { return testHost(t, cgroups.Legacy, true, allV1...) },
			want: []rspec.LinuxHugepageLimit{{Pagesize: "2MB"}, {Pagesize: "1GB"}},
		},
		{
			name: "v1 without hugetlb (hybrid host): dropped",
			host: func(t *testing.T) *cgroups.Host {
				return testHost(t, cgroups.Legacy, true, without(allV1, "hugetlb")...)
			},
		},
		{
			name: "v2 with hugetlb: kept",
			host: func(t *testing.T) *cgroups.Host { return testHost(t, cgroups.Unified, true, allV2...) },
			want: []rspec.LinuxHugepageLimit{{Pagesize: "2MB"}, {Pagesize: "1GB"}},
		},
		{
			name: "v2 without hugetlb: dropped",
			host: func(t *testing.T) *cgroups.Host {
				return testHost(t, cgroups.Unified, true, without(allV2, "hugetlb")...)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				in.Host.Cgroups = tt.host(t)
				r := resources(in)
				r.MemoryLimit = 64 << 20
				r.CPUShares = 2
				r.Hugepages = limits
			})
			res := s.Linux.Resources
			if !slices.Equal(res.HugepageLimits, tt.want) {
				t.Errorf("hugepage limits = %+v, want %+v", res.HugepageLimits, tt.want)
			}
			if res.Memory == nil || res.Memory.Limit == nil || *res.Memory.Limit != 64<<20 {
				t.Errorf("memory = %+v; the memory limit must stay", res.Memory)
			}
			if res.CPU == nil || res.CPU.Shares == nil || *res.CPU.Shares != 2 {
				t.Errorf("cpu = %+v; the cpu shares must stay", res.CPU)
			}
		})
	}
}

func TestBuildSpecSwapWithoutAccounting(t *testing.T) {
	s := buildSpec(t, func(in *testCase) {
		in.Host.Cgroups = testHost(t, cgroups.Legacy, false, allV1...)
		r := resources(in)
		r.MemoryLimit, r.MemorySwapLimit = 256<<20, 512<<20
	})
	if mem := s.Linux.Resources.Memory; mem == nil || mem.Limit == nil || *mem.Limit != 256<<20 || mem.Swap != nil {
		t.Errorf("memory = %+v, want the limit without swap", mem)
	}
}

func TestBuildSpecUnified(t *testing.T) {
	unified := map[string]string{"memory.high": "100000000"}
	for _, tt := range []struct {
		name string
		mode cgroups.Mode
		want map[string]string
	}{
		{"v1: left out", cgroups.Legacy, nil},
		{"v2: kept", cgroups.Unified, unified},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				in.Host.Cgroups = testHost(t, tt.mode, true, "memory")
				resources(in).Unified = unified
			})
			if got := s.Linux.Resources.Unified; !maps.Equal(got, tt.want) {
				t.Errorf("unified = %v, want %v", got, tt.want)
			}
		})
	}
}

// UpdateContainerResources and UpdatePodSandboxResources go through
// LinuxResources: the same filter, logged once for the container.
func TestLinuxResourcesFilters(t *testing.T) {
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	host := testHost(t, cgroups.Legacy, true, without(allV1, "hugetlb")...)
	res, err := (&Host{Cgroups: host}).LinuxResources(Resources{
		CPUQuota:  20000,
		CPUPeriod: 100000,
		Hugepages: []HugepageLimit{{PageSize: "2MB", Limit: 0}},
	}, log.WithField("container", "ctr-1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.HugepageLimits != nil {
		t.Errorf("hugepage limits = %+v, want none", res.HugepageLimits)
	}
	if res.CPU == nil || res.CPU.Quota == nil || *res.CPU.Quota != 20000 {
		t.Errorf("cpu = %+v, want quota 20000", res.CPU)
	}
	entries := hook.AllEntries()
	if len(entries) != 1 || entries[0].Level != logrus.DebugLevel ||
		entries[0].Data["controller"] != "hugetlb" || entries[0].Data["container"] != "ctr-1" {
		t.Errorf("log = %+v, want one debug line for hugetlb naming the container", entries)
	}
}
