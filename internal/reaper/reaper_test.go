package reaper

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/proc"
)

// The tests make the test process a subreaper, as Start does, but run no
// tick: each path is driven on its own.
func TestMain(m *testing.M) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		panic(err)
	}
	if err := proc.WatchExits(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// orphan starts script's background job through a shell that exits at
// once, so the job is re-parented to the test process, and returns its pid.
func orphan(t *testing.T, job string) int {
	t.Helper()
	out, err := exec.Command("sh", "-c", job+" >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Kill(pid, unix.SIGKILL); unix.Wait4(pid, nil, unix.WNOHANG, nil) })
	return pid
}

func gone(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err != nil
}

func waitGone(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if gone(pid) {
			return
		}
	}
	t.Fatalf("pid %d is still there (a zombie nobody reaped) after %v", pid, within)
}

func TestAdoptedOrphanIsReapedWhenItExits(t *testing.T) {
	pid := orphan(t, "sleep 0.2")
	Adopt(pid)
	// No scan runs in this test: only the exit watch can reap it.
	waitGone(t, pid, 5*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if adopted[pid] {
		t.Error("a reaped orphan is still in the adopted set")
	}
}

func TestAdoptIgnoresOthersChildren(t *testing.T) {
	// The shell is the parent of its job while it waits for it.
	cmd := exec.Command("sh", "-c", "sleep 30 & echo $!; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var buf [32]byte
	n, _ := out.Read(buf[:])
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Kill(pid, unix.SIGKILL)
	Adopt(pid)
	mu.Lock()
	defer mu.Unlock()
	if adopted[pid] {
		t.Error("a grandchild with a live parent was adopted")
	}
}

func TestStaleUnknownZombieIsReapedByTheScan(t *testing.T) {
	defer func(old time.Duration) { staleAfter = old }(staleAfter)
	staleAfter = 50 * time.Millisecond
	// Long enough to outlive the shell, which reaps a job that ended
	// before it did.
	pid := orphan(t, "sleep 0.1")
	for st, err := proc.ReadStat(pid); st.State != 'Z'; st, err = proc.ReadStat(pid) {
		if err != nil {
			t.Fatalf("the orphan %d went before it was a zombie of the test: %v", pid, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !zombieChild() {
		t.Fatal("zombieChild() = false with a zombie child")
	}
	reapStale() // first seen: left for a Wait that may come
	if gone(pid) {
		t.Fatal("an unknown zombie was reaped the first time it was seen")
	}
	time.Sleep(2 * staleAfter)
	reapStale()
	if !gone(pid) {
		t.Fatal("a zombie nobody waits for was not reaped once stale")
	}
	if zombieChild() {
		t.Error("zombieChild() = true with no zombie child left")
	}
}

func TestScanLeavesExecChildrenToTheirWait(t *testing.T) {
	cmd := exec.Command("sh", "-c", "exit 7")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	for st, err := proc.ReadStat(pid); err == nil && st.State != 'Z'; st, err = proc.ReadStat(pid) {
		time.Sleep(5 * time.Millisecond)
	}
	reapStale()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
		t.Fatalf("Wait = %v; want exit status 7, the reaper must not take exec.Cmd's child", err)
	}
}

// BenchmarkZombieCheckWith250Children compares the tick's check (one
// waitid) with the scan it spares while berth holds 250 monitors; the first
// version ran the scan at every SIGCHLD, that is at every runc or CNI
// plugin exit.
func BenchmarkZombieCheckWith250Children(b *testing.B) {
	var cmds []*exec.Cmd
	for range 250 {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	defer func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}()
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			zombieChild()
		}
	})
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reapStale()
		}
	})
}
