package oci

import (
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/cgroups"
)

const statsID = "0123abcd"

// The two ways a container's cgroup is named, and where each lives in a
// hierarchy.
var statsLayouts = []struct {
	driver      string
	cgroupsPath string
	dir         string
}{
	{config.CgroupfsDriver, "/kubepods/burstable/pod1/berth-" + statsID, "kubepods/burstable/pod1/berth-" + statsID},
	{config.SystemdDriver, "kubepods-burstable-pod1.slice:berth:" + statsID,
		"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/berth-" + statsID + ".scope"},
}

func TestCgroupStats(t *testing.T) {
	for _, layout := range statsLayouts {
		t.Run(layout.driver+"/v1", func(t *testing.T) {
			host := testHost(t, cgroups.Legacy, true, allV1...)
			cpuacct, _ := host.Mountpoint("cpuacct")
			memory, _ := host.Mountpoint("memory")
			writeCgroupFiles(t, filepath.Join(cpuacct, layout.dir), map[string]string{"cpuacct.usage": "123456789\n"})
			writeCgroupFiles(t, filepath.Join(memory, layout.dir), map[string]string{
				"memory.usage_in_bytes": "10485760\n",
				// inactive_file is the cgroup's own; total_ includes children.
				"memory.stat": "cache 4096\ninactive_file 1024\ntotal_cache 8192\ntotal_inactive_file 4194304\n",
			})
			m := &Manager{opts: Options{CgroupDriver: layout.driver, Cgroups: host}}
			st := m.CgroupStats(&Record{CgroupsPath: layout.cgroupsPath})
			want := Stats{CPUNanos: 123456789, MemoryUsage: 10485760, MemoryWorkingSet: 10485760 - 4194304}
			checkStats(t, st, want)
		})
		t.Run(layout.driver+"/v2", func(t *testing.T) {
			host := testHost(t, cgroups.Unified, true, allV2...)
			writeCgroupFiles(t, filepath.Join(host.Root(), layout.dir), map[string]string{
				"cpu.stat":       "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n",
				"memory.current": "8388608\n",
				"memory.stat":    "anon 4096\nfile 2097152\nactive_file 1048576\ninactive_file 1048576\n",
			})
			m := &Manager{opts: Options{CgroupDriver: layout.driver, Cgroups: host}}
			st := m.CgroupStats(&Record{CgroupsPath: layout.cgroupsPath})
			want := Stats{CPUNanos: 5000 * 1000, MemoryUsage: 8388608, MemoryWorkingSet: 8388608 - 1048576}
			checkStats(t, st, want)
		})
	}
}

func TestCgroupStatsZero(t *testing.T) {
	v1 := testHost(t, cgroups.Legacy, true, allV1...)
	tests := []struct {
		name        string
		host        *cgroups.Host
		driver      cgroups.Driver
		cgroupsPath string
	}{
		{"no cgroup path", v1, cgroups.Cgroupfs, ""},
		{"cgroup gone", v1, cgroups.Cgroupfs, "/kubepods/pod1/berth-gone"},
		{"systemd path under cgroupfs", v1, cgroups.Cgroupfs, "kubepods-pod1.slice:berth:x"},
		{"cgroupfs path under systemd", v1, cgroups.Systemd, "/kubepods/pod1/berth-x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStats(t, CgroupStats(tt.host, tt.driver, tt.cgroupsPath), Stats{})
		})
	}
}

// A hierarchy the host does not have is not read, even where a v1 host
// would usually mount it.
func TestCgroupStatsWithoutHierarchy(t *testing.T) {
	host := testHost(t, cgroups.Legacy, false, "cpu", "pids")
	writeCgroupFiles(t, filepath.Join(host.Root(), "cpuacct/kubepods/pod1/berth-x"), map[string]string{"cpuacct.usage": "5\n"})
	writeCgroupFiles(t, filepath.Join(host.Root(), "memory/kubepods/pod1/berth-x"), map[string]string{"memory.usage_in_bytes": "5\n"})
	checkStats(t, CgroupStats(host, cgroups.Cgroupfs, "/kubepods/pod1/berth-x"), Stats{})
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
