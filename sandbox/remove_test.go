package sandbox

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/names"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/oci"
)

// gatedContainers is the container manager of a pod whose container
// removal waits until release is closed.
type gatedContainers struct {
	removing chan struct{} // closed when RemovePodContainers is entered
	release  chan struct{}
}

func (g *gatedContainers) StopPodContainers(context.Context, string) error { return nil }
func (g *gatedContainers) RemovePodContainers(context.Context, string) error {
	close(g.removing)
	<-g.release
	return nil
}

// waitBlockedIn waits until a goroutine is blocked taking a mutex inside
// fn: the only way to know a call is queued behind a lock.
func waitBlockedIn(t *testing.T, fn string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		buf := make([]byte, 1<<20)
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "sync.(*Mutex).Lock") && strings.Contains(g, fn) {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no goroutine blocked on a lock in %s", fn)
}

// A StopPodSandbox that waited for a RemovePodSandbox of the same pod must
// not write the removed pod's record back: after a restart the pod would
// be back, its name reserved for a dead pod.
func TestStopQueuedBehindRemoveDoesNotBringThePodBack(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := &gatedContainers{removing: make(chan struct{}), release: make(chan struct{})}
	m := &Manager{
		opts: Options{
			Runtimes:   oci.NewRuntimes(map[string]config.RuntimeHandler{"runc": {Path: "/bin/true"}}, "runc"),
			DB:         db,
			Containers: g,
			Host:       testHost(t),
		},
		names:     names.New(),
		sandboxes: map[string]*Sandbox{},
	}
	// A host-network pod whose pause process is gone: nothing to tear
	// down on the host, only the record.
	rec := Record{ID: podID, Handler: "runc", State: NotReady, Complete: true, Dir: filepath.Join(t.TempDir(), podID),
		Config: Config{Name: "web", Namespace: "default", UID: "1", Namespaces: Namespaces{HostNetwork: true, HostIPC: true}}}
	if err := m.save(rec); err != nil {
		t.Fatal(err)
	}
	m.sandboxes[podID] = newSandbox(rec)

	removed := make(chan error, 1)
	go func() { removed <- m.Remove(context.Background(), podID) }()
	<-g.removing
	stopped := make(chan error, 1)
	go func() { stopped <- m.Stop(context.Background(), podID) }()
	waitBlockedIn(t, "sandbox.(*Manager).Stop")
	close(g.release)
	if err := <-removed; err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	var left []string
	if err := db.ForEach(bucket, func(id string, _ []byte) error { left = append(left, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("the store holds %v after the pod was removed", left)
	}
}
