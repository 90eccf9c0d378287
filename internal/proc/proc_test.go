package proc

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadStatOfSelf(t *testing.T) {
	st, err := ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.PPID != os.Getppid() || st.StartTime == 0 || st.State == 'Z' {
		t.Fatalf("stat of self = %+v; want ppid %d, a start time, not a zombie", st, os.Getppid())
	}
	if !Alive(os.Getpid(), st.StartTime) || Alive(os.Getpid(), st.StartTime+1) {
		t.Fatal("Alive must hold for the right start time only (pid reuse guard)")
	}
}

func TestWaitExitOfAnotherProcess(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	st, err := ReadStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := WaitExit(short, cmd.Process.Pid, st.StartTime); err == nil {
		t.Fatal("WaitExit returned while the process still runs")
	}
	cmd.Process.Kill()
	// Not reaped yet: a zombie counts as exited.
	if err := WaitExit(context.Background(), cmd.Process.Pid, st.StartTime); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid, st.StartTime) {
		t.Fatal("a killed process is reported alive")
	}
}

func TestBootID(t *testing.T) {
	id := BootID()
	if len(id) != 36 {
		t.Fatalf("BootID() = %q, want the kernel's UUID", id)
	}
	if EarlierBoot(id) || EarlierBoot("") {
		t.Error("this boot's ID, or none, counted as an earlier boot")
	}
	if !EarlierBoot("00000000-0000-0000-0000-000000000000") {
		t.Error("another boot's ID counted as this boot")
	}
}

func TestOthers(t *testing.T) {
	pids := Others()
	if slices.Contains(pids, os.Getpid()) {
		t.Error("Others lists this process")
	}
	if !slices.Contains(pids, os.Getppid()) {
		t.Errorf("Others misses the parent %d", os.Getppid())
	}
}

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses, as a process may choose.
	line := "4242 (a ) b (c)) S 17 4242 4242 0 -1 4194560 153 0 0 0 0 0 0 0 20 0 1 0 987654 2334720 210 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseStat(4242, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stat{State: 'S', PPID: 17, Flags: 4194560, StartTime: 987654}) {
		t.Fatalf("parseStat = %+v", st)
	}
	for _, bad := range []string{"", "4242 no parens", "4242 (x) S 17 1 2 3", "4242 (x) S 17 1 1 0 -1 1 1 0 0 0 0 0 0 0 20 0 1 0 notanumber 1"} {
		if st, err := parseStat(4242, []byte(bad)); err == nil {
			t.Errorf("parseStat(%q) = %+v, want an error", bad, st)
		}
	}
}

func TestKernelThread(t *testing.T) {
	if st, err := ReadStat(os.Getpid()); err != nil || st.KernelThread() {
		t.Errorf("the test's own process taken for a kernel thread (%+v, %v)", st, err)
	}
	// kthreadd, the kernel threads' parent, is pid 2 in the initial PID
	// namespace; a container's namespace has no such process.
	comm, err := os.ReadFile("/proc/2/comm")
	if err != nil || strings.TrimSpace(string(comm)) != "kthreadd" {
		t.Skipf("no kthreadd at pid 2 in this PID namespace (%q, %v)", comm, err)
	}
	if st, err := ReadStat(2); err != nil || !st.KernelThread() {
		t.Errorf("kthreadd (pid 2) not seen as a kernel thread (%+v, %v)", st, err)
	}
}

func BenchmarkReadStat(b *testing.B) {
	pid := os.Getpid()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadStat(pid); err != nil {
			b.Fatal(err)
		}
	}
}
