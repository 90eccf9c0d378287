package container

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/oci"
)

// A status refresh that looked at a container before RemoveContainer and
// saves after it must not write the removed record back: after a restart
// the container would be back, its name reserved.
func TestRefreshRacingRemoveDoesNotBringTheContainerBack(t *testing.T) {
	dir := t.TempDir()
	m := testManager(t, dir, Options{
		Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run"),
		Runtimes: oci.NewRuntimes(map[string]config.RuntimeHandler{"runc": {Path: "/bin/true"}}, "runc"),
		Monitor:  &conmon.Monitor{ExitDir: filepath.Join(dir, "exits"), SocketDir: filepath.Join(dir, "attach")},
	})
	// A running container whose process and monitor have just gone.
	const id = "ctr1abcdef"
	rec := Record{ID: id, Name: "k8s_app", Handler: "runc", State: Running, Complete: true,
		Bundle: filepath.Join(m.bundlesDir(), id), Dir: filepath.Join(m.dirsDir(), id)}
	if err := m.save(rec); err != nil {
		t.Fatal(err)
	}
	c := &Container{rec: rec}
	m.containers[id] = c

	looking, removed := make(chan struct{}), make(chan struct{})
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		m.refreshWith(c, func(*Record) bool {
			close(looking)
			<-removed
			return false
		})
	}()
	<-looking
	if err := m.Remove(context.Background(), id); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	close(removed)
	<-refreshed
	var left []string
	if err := m.opts.DB.ForEach(Bucket, func(key string, _ []byte) error { left = append(left, key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("the store holds %v after the container was removed", left)
	}
}

// kubelet giving up on a StartContainer (its context cancelled while runc
// start runs) must not leave a container whose process runs recorded as
// created: the start finishes, and the container is running.
func TestStartOutlivesItsCaller(t *testing.T) {
	dir := t.TempDir()
	m := testManager(t, dir, Options{
		Runtimes: loggingRuntimes(t, dir, "start"),
		Monitor:  &conmon.Monitor{ExitDir: filepath.Join(dir, "exits")},
	})
	const id = "ctr1abcdef"
	c := &Container{rec: runningRecord(t, id, Created, dir)}
	m.containers[id] = c

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx, id) }()
	for {
		if _, err := os.Stat(filepath.Join(dir, "entered")); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Start: %v", err)
	}
	if st := c.Snapshot().State; st != Running {
		t.Errorf("state %s after a start whose caller gave up, want running", st)
	}
}
