package container

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/internal/events"
)

// A container whose process exits while its start runs, the exit seen by a
// status call (or the exit watcher) before the start returns, is announced
// started, then stopped: never stopped before it started, never twice.
func TestEventsOfAContainerThatExitsDuringItsStart(t *testing.T) {
	dir := t.TempDir()
	exits := filepath.Join(dir, "exits")
	if err := os.Mkdir(exits, 0o700); err != nil {
		t.Fatal(err)
	}
	broker := events.NewBroker(100, nil)
	sub := broker.Subscribe()
	m := testManager(t, dir, Options{Runtimes: loggingRuntimes(t, dir, "start"), Monitor: &conmon.Monitor{ExitDir: exits}, Events: broker})
	const id = "ctr1abcdef"
	c := &Container{rec: runningRecord(t, id, Created, dir)}
	m.containers[id] = c

	done := make(chan error, 1)
	go func() { done <- m.Start(context.Background(), id) }()
	for {
		if _, err := os.Stat(filepath.Join(dir, "entered")); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// The process has exited: conmon wrote the file, a status call reads it.
	if err := os.WriteFile(filepath.Join(exits, id), []byte("3"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.refresh(c)
	if st := c.Snapshot().State; st != Exited {
		t.Fatalf("state %s after the exit file, want exited", st)
	}
	select {
	case ev := <-sub.Events():
		t.Fatalf("%s announced while the start still runs", ev.Kind)
	default:
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Start: %v", err)
	}
	m.refresh(c) // again: nothing new to announce
	var got []events.Kind
	for len(sub.Events()) > 0 {
		ev := <-sub.Events()
		if ev.ID != id || ev.SandboxID != "pod1" {
			t.Errorf("event %+v names another object", ev)
		}
		got = append(got, ev.Kind)
	}
	if fmt.Sprint(got) != fmt.Sprint([]events.Kind{events.Started, events.Stopped}) {
		t.Errorf("events %v, want [started stopped]", got)
	}
}

// The exit watcher marks a container exited, and announces it, as soon as
// conmon's exit file appears, with no status call.
func TestExitWatcherAnnouncesTheExit(t *testing.T) {
	dir := t.TempDir()
	exits := filepath.Join(dir, "exits")
	if err := os.Mkdir(exits, 0o700); err != nil {
		t.Fatal(err)
	}
	broker := events.NewBroker(100, nil)
	sub := broker.Subscribe()
	m := testManager(t, dir, Options{Monitor: &conmon.Monitor{ExitDir: exits}, Events: broker})
	const id = "ctr2abcdef"
	c := &Container{rec: runningRecord(t, id, Running, dir)}
	m.containers[id] = c
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.watchExits(ctx); err != nil {
		t.Fatal(err)
	}
	// As conmon does: written aside, renamed into place.
	tmp := filepath.Join(dir, "exit.tmp")
	if err := os.WriteFile(tmp, []byte("0"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(exits, id)); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-sub.Events():
		if ev.Kind != events.Stopped || ev.ID != id {
			t.Errorf("event %+v, want %s stopped", ev, id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event 10 s after the exit file appeared")
	}
	if st := c.Snapshot(); st.State != Exited || st.ExitCode != 0 {
		t.Errorf("state %s, exit code %d; want exited with 0", st.State, st.ExitCode)
	}
	// The watcher goes on to release the exited container from its
	// runtime; the test ends once it has, not while it is adding to the
	// releases its cleanup waits for.
	for deadline := time.Now().Add(10 * time.Second); !c.Snapshot().RuntimeDeleted; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the exited container was not released from its runtime")
		}
	}
}
