package cgroups

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// The main thread stays with the main goroutine, as in berth (see
// sandbox's nspin.go): a goroutine that locks a thread to move it into a
// cgroup then never gets the main thread, which, never thrown away, would
// stay in the cgroup and hold it.
func init() { runtime.LockOSThread() }

func TestOpenBirthplaceMakesTheCgroupInEveryHierarchy(t *testing.T) {
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
	// The kernel makes the tasks files; here they are made by hand.
	write(filepath.Join(root, "cpuset/pod/cpuset.cpus"), "0-1\n")
	write(filepath.Join(root, "cpuset/pod/cpuset.mems"), "0\n")
	write(filepath.Join(root, "cpuset/pod/init/cpuset.cpus"), "\n")
	write(filepath.Join(root, "cpuset/pod/init/cpuset.mems"), "")
	write(filepath.Join(root, "cpuset/pod/init/tasks"), "")
	write(filepath.Join(root, "memory/pod/init/tasks"), "")

	b, err := h.OpenBirthplace(Cgroupfs, "/pod/init")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(b.tasks) != 2 {
		t.Errorf("opened %d tasks files, want one per hierarchy", len(b.tasks))
	}
	if _, ok := b.CgroupFD(); ok {
		t.Error("a v1 host has a v2 cgroup fd")
	}
	for file, want := range map[string]string{"cpuset.cpus": "0-1", "cpuset.mems": "0"} {
		got, _ := os.ReadFile(filepath.Join(root, "cpuset/pod/init", file))
		if strings.TrimSpace(string(got)) != want {
			t.Errorf("%s = %q, want %q inherited from the parent", file, got, want)
		}
	}
	if _, err := h.OpenBirthplace(Cgroupfs, "/"); err == nil {
		t.Error("the root cgroup was accepted")
	}
	if _, err := h.OpenBirthplace(Cgroupfs, "/pod/../../escape"); err == nil {
		t.Error("a path with .. was accepted")
	}
}

// On this host's real hierarchies, a process started by a thread that
// entered a birthplace is born in the cgroup in every one of them.
func TestProcessIsBornInItsBirthplace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	h, err := Probe()
	if err != nil {
		t.Skipf("no cgroup hierarchy to test on: %v", err)
	}
	path := fmt.Sprintf("/berth-test-birth-%d", os.Getpid())
	b, err := h.OpenBirthplace(Cgroupfs, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := h.Remove(Cgroupfs, path); err != nil {
			t.Error(err)
		}
	}()
	defer b.Close()
	started := make(chan *exec.Cmd, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is thrown away
		cmd := exec.Command("sleep", "60")
		if err := b.EnterThread(); err != nil {
			t.Error(err)
			started <- nil
			return
		}
		if fd, ok := b.CgroupFD(); ok {
			cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
		}
		if err := cmd.Start(); err != nil {
			t.Error(err)
			cmd = nil
		}
		started <- cmd
	}()
	cmd := <-started
	if cmd == nil {
		return
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != len(h.hierarchies) {
		t.Errorf("the child is in %d hierarchies, the host has %d", len(lines), len(h.hierarchies))
	}
	for _, line := range lines {
		if !strings.HasSuffix(line, ":"+path) {
			t.Errorf("the child's cgroup %q is not %s", line, path)
		}
	}
	if self, _ := os.ReadFile("/proc/self/cgroup"); strings.Contains(string(self), path) {
		t.Errorf("the test's process moved into the cgroup too:\n%s", self)
	}
}
