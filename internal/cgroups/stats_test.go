package cgroups

import (
	"path/filepath"
	"testing"
)

const statsID = "0123abcd"

// The two ways a container's cgroup is named, and where each lives in a
// hierarchy.
var statsLayouts = []struct {
	driver      Driver
	cgroupsPath string
	dir         string
}{
	{Cgroupfs, "/kubepods/burstable/pod1/berth-" + statsID, "kubepods/burstable/pod1/berth-" + statsID},
	{Systemd, "kubepods-burstable-pod1.slice:berth:" + statsID,
		"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/berth-" + statsID + ".scope"},
}

// statsHost is a host with the controllers stats read, its hierarchies in
// a temporary directory.
func statsHost(t *testing.T, mode Mode, controllers ...string) *Host {
	t.Helper()
	h, err := NewHost(mode, t.TempDir(), controllers...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestStats(t *testing.T) {
	for _, layout := range statsLayouts {
		t.Run(string(layout.driver)+"/v1", func(t *testing.T) {
			host := statsHost(t, Legacy, "cpu", "cpuacct", "memory")
			cpuacct, _ := host.Mountpoint("cpuacct")
			memory, _ := host.Mountpoint("memory")
			writeFiles(t, filepath.Join(cpuacct, layout.dir), map[string]string{"cpuacct.usage": "123456789\n"})
			writeFiles(t, filepath.Join(memory, layout.dir), map[string]string{
				"memory.usage_in_bytes": "10485760\n",
				// inactive_file is the cgroup's own; total_ includes children.
				"memory.stat": "cache 4096\ninactive_file 1024\ntotal_cache 8192\ntotal_inactive_file 4194304\n",
			})
			st := host.Stats(layout.driver, layout.cgroupsPath)
			want := Stats{CPUNanos: 123456789, MemoryUsage: 10485760, MemoryWorkingSet: 10485760 - 4194304}
			checkStats(t, st, want)
		})
		t.Run(string(layout.driver)+"/v2", func(t *testing.T) {
			host := statsHost(t, Unified, "cpu", "memory")
			writeFiles(t, filepath.Join(host.Root(), layout.dir), map[string]string{
				"cpu.stat":       "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n",
				"memory.current": "8388608\n",
				"memory.stat":    "anon 4096\nfile 2097152\nactive_file 1048576\ninactive_file 1048576\n",
			})
			st := host.Stats(layout.driver, layout.cgroupsPath)
			want := Stats{CPUNanos: 5000 * 1000, MemoryUsage: 8388608, MemoryWorkingSet: 8388608 - 1048576}
			checkStats(t, st, want)
		})
	}
}

func TestStatsZero(t *testing.T) {
	v1 := statsHost(t, Legacy, "cpu", "cpuacct", "memory")
	tests := []struct {
		name        string
		host        *Host
		driver      Driver
		cgroupsPath string
	}{
		{"no cgroup path", v1, Cgroupfs, ""},
		{"cgroup gone", v1, Cgroupfs, "/kubepods/pod1/berth-gone"},
		{"systemd path under cgroupfs", v1, Cgroupfs, "kubepods-pod1.slice:berth:x"},
		{"cgroupfs path under systemd", v1, Systemd, "/kubepods/pod1/berth-x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStats(t, tt.host.Stats(tt.driver, tt.cgroupsPath), Stats{})
		})
	}
}

// A hierarchy the host does not have is not read, even where a v1 host
// would usually mount it.
func TestStatsWithoutHierarchy(t *testing.T) {
	host := statsHost(t, Legacy, "cpu", "pids")
	writeFiles(t, filepath.Join(host.Root(), "cpuacct/kubepods/pod1/berth-x"), map[string]string{"cpuacct.usage": "5\n"})
	writeFiles(t, filepath.Join(host.Root(), "memory/kubepods/pod1/berth-x"), map[string]string{"memory.usage_in_bytes": "5\n"})
	checkStats(t, host.Stats(Cgroupfs, "/kubepods/pod1/berth-x"), Stats{})
}

func checkStats(t *testing.T, got, want Stats) {
	t.Helper()
	if got.Timestamp.IsZero() {
		t.Error("no timestamp")
	}
	got.Timestamp = want.Timestamp
	if got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}
