package sandbox

import (
	"fmt"
	"testing"
	"time"
)

// List is oldest first: ListPodSandbox and StreamPodSandboxes answer in
// that order.
func TestListIsOldestFirst(t *testing.T) {
	m := &Manager{sandboxes: map[string]*Sandbox{}}
	start := time.Now()
	for i := range 50 {
		id := fmt.Sprintf("pod%02d", i)
		m.sandboxes[id] = newSandbox(Record{ID: id, CreatedAt: start.Add(time.Duration((i*17)%50) * time.Second)})
	}
	recs := m.List()
	if len(recs) != 50 {
		t.Fatalf("listed %d sandboxes, want 50", len(recs))
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].CreatedAt.Before(recs[i-1].CreatedAt) {
			t.Fatalf("sandbox %d (%s) was created before sandbox %d (%s)", i, recs[i].ID, i-1, recs[i-1].ID)
		}
	}
}

// A stop or remove rewrites a sandbox's whole record while lists sort
// sandboxes by creation time: run with -race, the two must not race.
func TestListWhileStopRewritesTheRecord(t *testing.T) {
	m := &Manager{sandboxes: map[string]*Sandbox{}}
	for i := range 4 {
		id := fmt.Sprintf("pod%d", i)
		m.sandboxes[id] = newSandbox(Record{ID: id, CreatedAt: time.Now(), State: Ready})
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, sb := range m.sandboxes {
				rec := sb.Snapshot()
				rec.State = NotReady
				sb.update(func(r *Record) { *r = rec })
			}
		}
	}()
	for range 2000 {
		if got := len(m.List()); got != 4 {
			t.Fatalf("listed %d sandboxes, want 4", got)
		}
	}
	close(stop)
	<-done
}
