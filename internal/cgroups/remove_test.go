package cgroups

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every hierarchy counts once, controllers or not; a bind mount of one is
// not another.
func TestProbeFromHierarchies(t *testing.T) {
	tests := []struct {
		name, mountinfo string
		want            []string // under ROOT
	}{
		{"hybrid", hybridMountinfo, []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified"}},
		{"co-mounted with a bind mount", coMountedMountinfo, []string{"systemd", "cpu,cpuacct", "net_cls,net_prio", "memory", "hugetlb"}},
		{"unified", unifiedMountinfo, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, map[string]string{"cgroup.controllers": "cpu\n"})
			h, err := ProbeFrom(strings.NewReader(strings.ReplaceAll(tt.mountinfo, "ROOT", root)), root)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, rel := range tt.want {
				want = append(want, filepath.Join(root, rel))
			}
			if !slices.Equal(h.hierarchies, want) {
				t.Errorf("hierarchies = %q, want %q", h.hierarchies, want)
			}
		})
	}
}

func TestRemoveRefusesTheRoot(t *testing.T) {
	h, err := NewHost(Legacy, t.TempDir(), "cpu")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/a/../.."} {
		if err := h.Remove(Cgroupfs, p); err == nil {
			t.Errorf("Remove(%q) = nil, want an error: it is no container's cgroup", p)
		}
	}
	if err := h.Remove(Cgroupfs, "/berth-test/gone"); err != nil {
		t.Errorf("Remove of a cgroup that is not there = %v, want nil", err)
	}
}

// A cgroup a killed runtime left, with a process still in it and a
// sub-cgroup, is gone from every hierarchy of this host, and the process
// with it.
func TestRemoveKillsAndRemoves(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making cgroups needs root")
	}
	h, err := Probe()
	if err != nil {
		t.Skipf("no cgroup hierarchy to test in: %v", err)
	}
	p := "/berth-remove-test-" + strconv.Itoa(os.Getpid())
	var dirs []string
	for _, mp := range h.hierarchies {
		dir := filepath.Join(mp, p)
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatalf("make a test cgroup: %v", err)
		}
		dirs = append(dirs, dir)
	}
	t.Cleanup(func() {
		for _, d := range dirs {
			os.Remove(filepath.Join(d, "sub"))
			os.Remove(d)
		}
	})
	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleep.Wait() }()
	t.Cleanup(func() { sleep.Process.Kill() })
	for _, d := range dirs {
		// cpuset needs its cpus and mems before it takes a process.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if data, err := os.ReadFile(filepath.Join(filepath.Dir(d), f)); err == nil {
				os.WriteFile(filepath.Join(d, f), data, 0o644)
				os.WriteFile(filepath.Join(d, "sub", f), data, 0o644)
			}
		}
		if err := os.WriteFile(filepath.Join(d, "sub", "cgroup.procs"), []byte(strconv.Itoa(sleep.Process.Pid)), 0o644); err != nil {
			t.Logf("%s takes no process: %v", d, err)
		}
	}

	if err := h.Remove(Cgroupfs, p); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s is still there", d)
		}
	}
	select {
	case err := <-exited:
		if ws, ok := sleep.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Errorf("the process in the cgroup ended with %v, want killed", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the process in the cgroup still runs")
	}
}
