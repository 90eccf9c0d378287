package container

import (
	"fmt"
	"testing"
	"time"

	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/spec"
)

// BenchmarkList lists 250 containers, as ListContainers does on a full
// node (their states are current: exited, so no look at /proc).
func BenchmarkList(b *testing.B) {
	m := &Manager{opts: Options{Monitor: &conmon.Monitor{}}, containers: map[string]*Container{}}
	base := time.Now()
	for i := range 250 {
		id := fmt.Sprintf("%064x", i*7919)
		m.containers[id] = &Container{rec: Record{
			ID: id, SandboxID: fmt.Sprintf("%064x", i), Name: "k8s_app_pod_ns_uid_0", State: Exited,
			Image: "registry.k8s.io/e2e-test-images/busybox:1.29-2", ImageID: "sha256:" + id, ImageRef: "sha256:" + id,
			CreatedAt: base.Add(time.Duration((i*37)%250) * time.Millisecond),
			Config: Config{Name: "app", Labels: map[string]string{"io.kubernetes.pod.name": "pod", "io.kubernetes.container.name": "app"},
				Container: spec.Container{Annotations: map[string]string{"io.kubernetes.container.hash": "abc", "io.kubernetes.container.restartCount": "0"}}},
		}}
	}
	for b.Loop() {
		if got := m.List(); len(got) != 250 {
			b.Fatalf("listed %d", len(got))
		}
	}
}
