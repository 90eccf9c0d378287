package cgroups

import (
	"path/filepath"
	"reflect"
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
			host := statsHost(t, Legacy, "cpu", "cpuacct", "memory", "pids")
			cpuacct, _ := host.Mountpoint("cpuacct")
			memory, _ := host.Mountpoint("memory")
			pids, _ := host.Mountpoint("pids")
			writeFiles(t, filepath.Join(cpuacct, layout.dir), map[string]string{"cpuacct.usage": "123456789\n"})
			writeFiles(t, filepath.Join(memory, layout.dir), map[string]string{
				"memory.usage_in_bytes": "10485760\n",
				// inactive_file is the cgroup's own; total_ includes children.
				"memory.stat": "cache 4096\ninactive_file 1024\nrss 1\ntotal_cache 8192\ntotal_inactive_file 4194304\n" +
					"total_rss 3145728\ntotal_pgfault 900\ntotal_pgmajfault 7\n",
				"memory.limit_in_bytes": "67108864\n",
				"memory.oom_control":    "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
			})
			writeFiles(t, filepath.Join(pids, layout.dir), map[string]string{"pids.current": "3\n"})
			st := host.Stats(layout.driver, layout.cgroupsPath)
			want := Stats{CPUNanos: 123456789, MemoryUsage: 10485760, MemoryWorkingSet: 10485760 - 4194304,
				MemoryRSS: 3145728, PageFaults: 900, MajorPageFaults: 7, MemoryLimit: 64 << 20, OOMKills: 2, Processes: 3}
			checkStats(t, st, want)
		})
		t.Run(string(layout.driver)+"/v1 swap accounted, no limit", func(t *testing.T) {
			// Swap accounting is probed at the hierarchy's root.
			root := t.TempDir()
			memory := filepath.Join(root, "memory")
			writeFiles(t, memory, map[string]string{"memory.memsw.limit_in_bytes": "9223372036854771712\n"})
			host, err := NewHost(Legacy, root, "memory")
			if err != nil || !host.SwapAccounting() {
				t.Fatalf("host with memsw: %v, swap accounting %v", err, host.SwapAccounting())
			}
			writeFiles(t, filepath.Join(memory, layout.dir), map[string]string{
				"memory.usage_in_bytes":       "1000000\n",
				"memory.memsw.usage_in_bytes": "1500000\n",
				"memory.limit_in_bytes":       "9223372036854771712\n",
				"memory.memsw.limit_in_bytes": "9223372036854771712\n",
			})
			st := host.Stats(layout.driver, layout.cgroupsPath)
			checkStats(t, st, Stats{MemoryUsage: 1000000, MemoryWorkingSet: 1000000, SwapUsage: 500000})
		})
		t.Run(string(layout.driver)+"/v2", func(t *testing.T) {
			host := statsHost(t, Unified, "cpu", "memory", "pids", "io")
			writeFiles(t, filepath.Join(host.Root(), layout.dir), map[string]string{
				"cpu.stat":            "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n",
				"memory.current":      "8388608\n",
				"memory.stat":         "anon 4096\nfile 2097152\nactive_file 1048576\ninactive_file 1048576\npgfault 42\npgmajfault 2\n",
				"memory.max":          "16777216\n",
				"memory.swap.current": "8192\n",
				"memory.swap.max":     "max\n",
				"memory.events":       "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
				"pids.current":        "5\n",
				"cpu.pressure":        "some avg10=1.50 avg60=0.75 avg300=0.10 total=2000\nfull avg10=0.50 avg60=0.25 avg300=0.05 total=1000\n",
				"memory.pressure":     "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=3\n",
			})
			st := host.Stats(layout.driver, layout.cgroupsPath)
			want := Stats{CPUNanos: 5000 * 1000, MemoryUsage: 8388608, MemoryWorkingSet: 8388608 - 1048576,
				MemoryRSS: 4096, PageFaults: 42, MajorPageFaults: 2, MemoryLimit: 16 << 20, SwapUsage: 8192, OOMKills: 1, Processes: 5,
				CPUPressure: &Pressure{
					Some: PressureData{Avg10: 1.5, Avg60: 0.75, Avg300: 0.1, TotalNanos: 2000 * 1000},
					Full: PressureData{Avg10: 0.5, Avg60: 0.25, Avg300: 0.05, TotalNanos: 1000 * 1000},
				},
				MemoryPressure: &Pressure{Some: PressureData{TotalNanos: 7000}, Full: PressureData{TotalNanos: 3000}},
			}
			checkStats(t, st, want)
		})
	}
}

// A pod's cgroup, named by kubelet's parent, reads the same way.
func TestParentStats(t *testing.T) {
	host := statsHost(t, Unified, "cpu", "memory")
	writeFiles(t, filepath.Join(host.Root(), "kubepods.slice/kubepods-pod1.slice"), map[string]string{
		"cpu.stat": "usage_usec 7\n", "memory.current": "100\n", "cgroup.procs": "10\n11\n",
	})
	checkStats(t, host.ParentStats(Systemd, "kubepods-pod1.slice"), Stats{CPUNanos: 7000, MemoryUsage: 100, MemoryWorkingSet: 100, Processes: 2})
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
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}
