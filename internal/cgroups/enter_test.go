package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnterMakesTheCgroupInEveryHierarchy(t *testing.T) {
	root := t.TempDir()
	h, err := NewHost(Legacy, root, "cpuset", "memory")
	if err != nil {
		t.Fatal(err)
	}
	write := func(p, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The pod's parent exists with its cpuset set; the level below it was
	// made by someone who did not fill it (as mkdir does on a real v1 tree).
	write(filepath.Join(root, "cpuset/pod/cpuset.cpus"), "0-1\n")
	write(filepath.Join(root, "cpuset/pod/cpuset.mems"), "0\n")
	write(filepath.Join(root, "cpuset/pod/init/cpuset.cpus"), "\n")
	write(filepath.Join(root, "cpuset/pod/init/cpuset.mems"), "")

	if err := h.Enter(Cgroupfs, "/pod/init", 4242); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"cpuset", "memory"} {
		got, err := os.ReadFile(filepath.Join(root, c, "pod/init/cgroup.procs"))
		if err != nil || string(got) != "4242" {
			t.Errorf("%s cgroup.procs = %q, %v; want 4242", c, got, err)
		}
	}
	for file, want := range map[string]string{"cpuset.cpus": "0-1", "cpuset.mems": "0"} {
		got, _ := os.ReadFile(filepath.Join(root, "cpuset/pod/init", file))
		if strings.TrimSpace(string(got)) != want {
			t.Errorf("%s = %q, want %q inherited from the parent", file, got, want)
		}
	}
	if err := h.Enter(Cgroupfs, "/", 4242); err == nil {
		t.Error("entering the root cgroup was accepted")
	}
	if err := h.Enter(Cgroupfs, "/pod/../../escape", 4242); err == nil {
		t.Error("a path with .. was accepted")
	}
}
