package proc

import (
	"os/exec"
	"testing"
	"time"
)

func startSleep(t *testing.T) (*exec.Cmd, uint64) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	st, err := ReadStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return cmd, st.StartTime
}

func TestWatchSeesTheExit(t *testing.T) {
	cmd, start := startSleep(t)
	called := make(chan struct{})
	w, err := WatchExit(cmd.Process.Pid, start, func() { close(called) })
	if err != nil {
		t.Fatal(err)
	}
	if w.Exited() {
		t.Fatal("a running process reads exited")
	}
	cmd.Process.Kill()
	// A zombie (not waited for yet) has exited too.
	select {
	case <-called:
	case <-time.After(10 * time.Second):
		t.Fatal("onExit not called 10 s after the kill")
	}
	if !w.Exited() {
		t.Error("onExit ran but the watch does not read exited")
	}
	w.Stop() // after the exit: a no-op
}

func TestWatchOfAGoneOrRecycledPid(t *testing.T) {
	cmd, start := startSleep(t)
	// The same pid with another start time is another process.
	w, err := WatchExit(cmd.Process.Pid, start+1, nil)
	if err != nil || !w.Exited() {
		t.Errorf("watch of a recycled pid: exited %v, %v", w != nil && w.Exited(), err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	called := make(chan struct{})
	w, err = WatchExit(cmd.Process.Pid, start, func() { close(called) })
	if err != nil || !w.Exited() {
		t.Fatalf("watch of a reaped process: %v", err)
	}
	select {
	case <-called:
	case <-time.After(10 * time.Second):
		t.Fatal("onExit of a process already gone not called")
	}
}

func TestStoppedWatchClosesItsPidfd(t *testing.T) {
	cmd, start := startSleep(t)
	w, err := WatchExit(cmd.Process.Pid, start, func() { t.Error("onExit of a stopped watch ran") })
	if err != nil {
		t.Fatal(err)
	}
	w.Stop()
	w.Stop()
	if w.fd != -1 {
		t.Errorf("pidfd %d still open after Stop", w.fd)
	}
	cmd.Process.Kill()
	cmd.Wait()
	time.Sleep(100 * time.Millisecond) // an event for it would have come by now
	if w.Exited() {
		t.Error("a stopped watch changed its answer")
	}
}
