package cni

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/proc"
	"golang.org/x/sys/unix"
)

// A plugin (with a child of its own, in its process group) still at work
// for a sandbox is killed; one working for another sandbox is not.
func TestKillOrphanPlugins(t *testing.T) {
	start := func(id string) *exec.Cmd {
		cmd := exec.Command("sh", "-c", "sleep 3600 & wait")
		cmd.Env = append(os.Environ(), "CNI_COMMAND=ADD", "CNI_CONTAINERID="+id)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		return cmd
	}
	orphan, other := start("sandbox1"), start("sandbox10")
	if err := KillOrphanPlugins("sandbox1"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- orphan.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the orphaned plugin still runs")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(liveInGroup(orphan.Process.Pid)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the orphaned plugin's children %v still run", liveInGroup(orphan.Process.Pid))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(other.Process.Pid, 0); err != nil {
		t.Errorf("a plugin of another sandbox was killed: %v", err)
	}
}

// liveInGroup lists the processes of process group pgid that are not
// zombies (a killed child waits for init to reap it).
func liveInGroup(pgid int) []int {
	var live []int
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if g, err := unix.Getpgid(pid); err != nil || g != pgid {
			continue
		}
		if st, err := proc.ReadStat(pid); err == nil && st.State != 'Z' {
			live = append(live, pid)
		}
	}
	return live
}
