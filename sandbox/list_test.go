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
		m.sandboxes[id] = &Sandbox{rec: Record{ID: id, CreatedAt: start.Add(time.Duration((i*17)%50) * time.Second)}}
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
