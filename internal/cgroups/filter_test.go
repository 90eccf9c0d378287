package cgroups

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

var (
	allV1 = []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "pids"}
	allV2 = []string{"cpu", "cpuset", "hugetlb", "io", "memory", "pids"}
)

func ptr[T any](v T) *T { return &v }

// fullResources sets a limit of every kind the filter knows.
func fullResources(unified bool) *rspec.LinuxResources {
	r := &rspec.LinuxResources{
		Devices: []rspec.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		CPU: &rspec.LinuxCPU{
			Shares: ptr[uint64](512), Quota: ptr[int64](50000), Period: ptr[uint64](100000),
			Cpus: "0-1", Mems: "0",
		},
		Memory:         &rspec.LinuxMemory{Limit: ptr[int64](256 << 20), Swap: ptr[int64](256 << 20)},
		Pids:           &rspec.LinuxPids{Limit: ptr[int64](100)},
		BlockIO:        &rspec.LinuxBlockIO{Weight: ptr[uint16](500)},
		HugepageLimits: []rspec.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}, {Pagesize: "1GB", Limit: 0}},
	}
	if unified {
		r.Unified = map[string]string{"memory.high": "200000000", "pids.max": "90", "cgroup.freeze": "0"}
	}
	return r
}

func without(all []string, missing ...string) []string {
	return slices.DeleteFunc(slices.Clone(all), func(c string) bool { return slices.Contains(missing, c) })
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name        string
		mode        Mode
		controllers []string
		swap        bool // v1: make memory.memsw.limit_in_bytes
		unified     bool // set unified keys in the input
		// change turns the full resources into the expected ones.
		change func(r *rspec.LinuxResources)
		logged []string // controllers logged, in order
	}{
		{name: "v1, nothing missing", mode: Legacy, controllers: allV1, swap: true},
		{name: "v2, nothing missing", mode: Unified, controllers: allV2, unified: true},
		{
			name: "v1 without hugetlb (this host)", mode: Legacy, controllers: without(allV1, "hugetlb"), swap: true,
			change: func(r *rspec.LinuxResources) { r.HugepageLimits = nil },
			logged: []string{"hugetlb"},
		},
		{
			name: "v2 without hugetlb", mode: Unified, controllers: without(allV2, "hugetlb"), unified: true,
			change: func(r *rspec.LinuxResources) { r.HugepageLimits = nil },
			logged: []string{"hugetlb"},
		},
		{
			name: "without cpu: cpuset stays", mode: Legacy, controllers: without(allV1, "cpu"), swap: true,
			change: func(r *rspec.LinuxResources) { r.CPU = &rspec.LinuxCPU{Cpus: "0-1", Mems: "0"} },
			logged: []string{"cpu"},
		},
		{
			name: "without cpuset: cpu stays", mode: Legacy, controllers: without(allV1, "cpuset"), swap: true,
			change: func(r *rspec.LinuxResources) { r.CPU.Cpus, r.CPU.Mems = "", "" },
			logged: []string{"cpuset"},
		},
		{
			name: "without cpu and cpuset", mode: Unified, controllers: without(allV2, "cpu", "cpuset"),
			change: func(r *rspec.LinuxResources) { r.CPU = nil },
			logged: []string{"cpu", "cpuset"},
		},
		{
			name: "v1 without memory", mode: Legacy, controllers: without(allV1, "memory"),
			change: func(r *rspec.LinuxResources) { r.Memory = nil },
			logged: []string{"memory"},
		},
		{
			name: "v1 without swap accounting: the limit stays", mode: Legacy, controllers: allV1,
			change: func(r *rspec.LinuxResources) { r.Memory.Swap = nil },
			logged: []string{"memory"},
		},
		{
			name: "v2 without memory: its unified keys go too", mode: Unified, controllers: without(allV2, "memory"), unified: true,
			change: func(r *rspec.LinuxResources) { r.Memory = nil; delete(r.Unified, "memory.high") },
			logged: []string{"memory", "memory"},
		},
		{
			name: "without pids", mode: Legacy, controllers: without(allV1, "pids"), swap: true,
			change: func(r *rspec.LinuxResources) { r.Pids = nil },
			logged: []string{"pids"},
		},
		{
			name: "v1 without blkio", mode: Legacy, controllers: without(allV1, "blkio"), swap: true,
			change: func(r *rspec.LinuxResources) { r.BlockIO = nil },
			logged: []string{"blkio"},
		},
		{
			name: "v2 without io", mode: Unified, controllers: without(allV2, "io"),
			change: func(r *rspec.LinuxResources) { r.BlockIO = nil },
			logged: []string{"io"},
		},
		{
			name: "v1: unified keys are v2 files", mode: Legacy, controllers: allV1, swap: true, unified: true,
			change: func(r *rspec.LinuxResources) { r.Unified = nil },
			logged: []string{"unified"},
		},
		{
			name: "v2 without pids: cgroup.* keys stay", mode: Unified, controllers: without(allV2, "pids"), unified: true,
			change: func(r *rspec.LinuxResources) { r.Pids = nil; delete(r.Unified, "pids.max") },
			logged: []string{"pids", "pids"},
		},
		{
			name: "nothing at all: devices stay", mode: Unified, unified: true,
			change: func(r *rspec.LinuxResources) {
				*r = rspec.LinuxResources{Devices: r.Devices, Unified: map[string]string{"cgroup.freeze": "0"}}
			},
			logged: []string{"hugetlb", "cpu", "cpuset", "memory", "pids", "io", "memory", "pids"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.swap {
				writeFiles(t, root, map[string]string{"memory/memory.memsw.limit_in_bytes": "0\n"})
			}
			h, err := NewHost(tt.mode, root, tt.controllers...)
			if err != nil {
				t.Fatal(err)
			}
			got := fullResources(tt.unified)
			want := fullResources(tt.unified)
			if tt.change != nil {
				tt.change(want)
			}
			log, hook := logtest.NewNullLogger()
			log.SetLevel(logrus.DebugLevel)

			h.Filter(got, log.WithField("container", "ctr-1"))

			if !reflect.DeepEqual(got, want) {
				t.Errorf("filtered:\n%s\nwant:\n%s", dump(got), dump(want))
			}
			var logged []string
			for _, e := range hook.AllEntries() {
				if e.Level != logrus.DebugLevel || e.Data["container"] != "ctr-1" {
					t.Errorf("log entry %q at %v with fields %v; want debug naming the container", e.Message, e.Level, e.Data)
				}
				logged = append(logged, e.Data["controller"].(string))
			}
			if !slices.Equal(logged, tt.logged) {
				t.Errorf("logged controllers %q, want %q", logged, tt.logged)
			}
		})
	}
}

func TestFilterNil(t *testing.T) {
	h, err := NewHost(Unified, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log, hook := logtest.NewNullLogger()
	h.Filter(nil, log)
	empty := &rspec.LinuxResources{CPU: &rspec.LinuxCPU{}}
	h.Filter(empty, log)
	if empty.CPU == nil || len(hook.AllEntries()) != 0 {
		t.Errorf("an empty CPU was changed (%+v) or logged (%d lines)", empty.CPU, len(hook.AllEntries()))
	}
}

func dump(r *rspec.LinuxResources) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}
