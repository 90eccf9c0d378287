package container

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/conmon"
)

// runtimeDeletes counts the deletes of id the logging runtime was asked for.
func runtimeDeletes(t *testing.T, dir, id string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "calls"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); slices.Contains(f, "delete") && f[len(f)-1] == id {
			n++
		}
	}
	return n
}

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

func releaseManager(t *testing.T, dir, gated string) *Manager {
	t.Helper()
	m := testManager(t, dir, Options{
		Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run"),
		Runtimes: loggingRuntimes(t, dir, gated),
		Monitor:  &conmon.Monitor{ExitDir: filepath.Join(dir, "exits"), SocketDir: filepath.Join(dir, "attach")},
	})
	if err := os.MkdirAll(m.opts.Monitor.ExitDir, 0o700); err != nil {
		t.Fatal(err)
	}
	return m
}

// writeExit is conmon writing the exit file of a container whose process
// it reaped.
func writeExit(t *testing.T, m *Manager, id string, code int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(m.opts.Monitor.ExitDir, id), fmt.Appendf(nil, "%d", code), 0o600); err != nil {
		t.Fatal(err)
	}
}

// An exited container is deleted from its runtime as soon as its exit is
// seen, and the record says so, saved: RemoveContainer does not run the
// runtime's delete a second time.
func TestExitedContainerIsReleasedFromTheRuntime(t *testing.T) {
	dir := t.TempDir()
	m := releaseManager(t, dir, "")
	const id = "ctr1abcdef"
	rec := Record{ID: id, Name: "k8s_app", Handler: "runc", State: Running, Complete: true,
		Bundle: filepath.Join(m.bundlesDir(), id), Dir: filepath.Join(m.dirsDir(), id)}
	c := &Container{rec: rec}
	m.containers[id] = c

	writeExit(t, m, id, 3)
	m.refreshWith(c, func(*Record) bool { return false })
	if st := c.Snapshot(); st.State != Exited || st.ExitCode != 3 {
		t.Fatalf("after the exit file: state %s code %d, want exited 3", st.State, st.ExitCode)
	}
	// The background release sets the flag before it saves the record:
	// wait for all of it, not for the flag.
	m.releases.Wait()
	if !c.Snapshot().RuntimeDeleted {
		t.Fatal("the record does not say the runtime deleted the container after its release")
	}
	if n := runtimeDeletes(t, dir, id); n != 1 {
		t.Errorf("%d runtime deletes after the exit, want 1", n)
	}
	var saved Record
	if err := m.opts.DB.ForEach(Bucket, func(key string, data []byte) error {
		if key != id {
			return nil
		}
		return json.Unmarshal(data, &saved)
	}); err != nil {
		t.Fatal(err)
	}
	if !saved.RuntimeDeleted {
		t.Error("the saved record does not say the runtime deleted the container: a restart would delete it again")
	}

	if err := m.Remove(context.Background(), id); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if n := runtimeDeletes(t, dir, id); n != 1 {
		t.Errorf("%d runtime deletes after RemoveContainer, want still 1", n)
	}
}

// An exit seen while the runtime's start is still at work (a process that
// ends at once) must not delete the container under that start: the
// delete waits for Start to return.
func TestExitDuringStartIsReleasedAfterTheStart(t *testing.T) {
	dir := t.TempDir()
	m := releaseManager(t, dir, "start")
	const id = "ctr1abcdef"
	c := &Container{rec: runningRecord(t, id, Created, dir)}
	m.containers[id] = c

	started := make(chan error, 1)
	go func() { started <- m.Start(context.Background(), id) }()
	eventually(t, "the runtime's start begins", func() bool {
		_, err := os.Stat(filepath.Join(dir, "entered"))
		return err == nil
	})
	writeExit(t, m, id, 0)
	m.refreshWith(c, func(*Record) bool { return false })
	if st := c.Snapshot().State; st != Exited {
		t.Fatalf("state %s after the exit file, want exited", st)
	}
	time.Sleep(50 * time.Millisecond) // a delete begun now would be logged by then
	if n := runtimeDeletes(t, dir, id); n != 0 {
		t.Fatalf("%d runtime deletes while the start was at work, want 0", n)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-started; err != nil {
		t.Fatalf("Start: %v", err)
	}
	eventually(t, "the runtime delete after the start", func() bool { return c.Snapshot().RuntimeDeleted })
	if n := runtimeDeletes(t, dir, id); n != 1 {
		t.Errorf("%d runtime deletes, want 1", n)
	}
}

// StopContainer returns once the runtime's delete after the exit has
// ended, as containerd's does: the container's cgroup is gone by then.
func TestStopWaitsForTheRuntimeDelete(t *testing.T) {
	dir := t.TempDir()
	m := releaseManager(t, dir, "delete")
	// A failure must not leave the delete waiting forever.
	t.Cleanup(func() { os.WriteFile(filepath.Join(dir, "go"), nil, 0o644) })
	const id = "ctr1abcdef"
	rec := Record{ID: id, Name: "k8s_app", Handler: "runc", State: Running, Complete: true,
		Bundle: filepath.Join(m.bundlesDir(), id), Dir: filepath.Join(m.dirsDir(), id)}
	c := &Container{rec: rec}
	m.containers[id] = c
	writeExit(t, m, id, 0) // its process and monitor are gone

	stopped := make(chan error, 1)
	go func() { stopped <- m.Stop(context.Background(), id, time.Second) }()
	eventually(t, "the runtime's delete begins", func() bool {
		_, err := os.Stat(filepath.Join(dir, "entered"))
		return err == nil
	})
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while the runtime's delete was at work", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !c.Snapshot().RuntimeDeleted {
		t.Error("Stop returned before the record said the runtime deleted the container")
	}
}
