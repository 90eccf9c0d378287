package container

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/conmon"
)

// A conmon that writes the exit file and exits between berth's two looks
// (exit file, then liveness) must not turn a known exit code into 255.
func TestObserveExitRacesWithConmonExiting(t *testing.T) {
	exits := t.TempDir()
	m := &Manager{opts: Options{Monitor: &conmon.Monitor{ExitDir: exits}}}
	rec := &Record{ID: "ctr1", Dir: t.TempDir()}

	// conmon finishes while berth checks whether it runs.
	conmonExitsNow := func(*Record) bool {
		if err := os.WriteFile(filepath.Join(exits, rec.ID), []byte("137"), 0o644); err != nil {
			t.Fatal(err)
		}
		return false
	}
	exit, ok := m.observeExit(rec, conmonExitsNow)
	if !ok || exit.Code != 137 || exit.unknown {
		t.Fatalf("observeExit = %+v, %v; want code 137 from the exit file", exit, ok)
	}

	// Still running, no exit file: not exited.
	os.Remove(filepath.Join(exits, rec.ID))
	if exit, ok := m.observeExit(rec, func(*Record) bool { return true }); ok {
		t.Errorf("a running container observed exited: %+v", exit)
	}
	// Both gone and no file ever written: the exit is unknown.
	if exit, ok := m.observeExit(rec, func(*Record) bool { return false }); !ok || exit.Code != 255 || !exit.unknown {
		t.Errorf("monitor gone without an exit file: %+v, %v; want unknown 255", exit, ok)
	}
}

// StopContainer's wait for the exit file: a conmon that writes it and
// exits between berth's looks must leave the container's real exit code,
// not the "no exit file" 137.
func TestAwaitExitFileRacesWithConmonExiting(t *testing.T) {
	exits := t.TempDir()
	m := testManager(t, t.TempDir(), Options{Monitor: &conmon.Monitor{ExitDir: exits}})
	// Its process is gone (pid 0); conmon (this test's pid stands in for
	// it) still runs at the first look.
	c := &Container{rec: Record{ID: "ctr1", Dir: t.TempDir(), State: Running, Complete: true, ConmonPid: os.Getpid()}}
	looks := 0
	conmonRuns := func() bool {
		looks++
		if looks == 1 {
			return true
		}
		// conmon wrote the file and exited just after berth's first look.
		if err := os.WriteFile(filepath.Join(exits, "ctr1"), []byte("0"), 0o644); err != nil {
			t.Fatal(err)
		}
		return false
	}
	if !m.awaitExitFile(c, conmonRuns) {
		t.Fatal("the container is not recorded exited")
	}
	if rec := c.Snapshot(); rec.ExitCode != 0 || rec.Reason != ReasonCompleted {
		t.Errorf("exit %d (%s), want 0 from the exit file", rec.ExitCode, rec.Reason)
	}
}
