package container

import (
	"fmt"
	"testing"
	"time"

	"github.com/berth-dev/berth/conmon"
)

// List is oldest first: ListContainers answers in that order.
func TestListIsOldestFirst(t *testing.T) {
	m := &Manager{opts: Options{Monitor: &conmon.Monitor{}}, containers: map[string]*Container{}}
	start := time.Now()
	for i := range 50 {
		id := fmt.Sprintf("ctr%02d", i)
		m.containers[id] = &Container{rec: Record{ID: id, State: Exited, CreatedAt: start.Add(time.Duration((i*17)%50) * time.Second)}}
	}
	recs := m.List()
	if len(recs) != 50 {
		t.Fatalf("listed %d containers, want 50", len(recs))
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].CreatedAt.Before(recs[i-1].CreatedAt) {
			t.Fatalf("container %d (%s) was created before container %d (%s)", i, recs[i].ID, i-1, recs[i-1].ID)
		}
	}
}
