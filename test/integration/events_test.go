//go:build integration

package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/harness"
)

// Two GetContainerEvents streams, one never read, while 50 containers
// live and die in a pod (half stopped, half exiting on their own): the
// lifecycles go on as if nothing listened, and the reading stream sees each
// container created, started, stopped and deleted, in that order, with the
// pod's status and its containers' statuses. A container that exits on its
// own is announced stopped with no status call to find it out.
func TestContainerEventsInOrderBesideAStalledSubscriber(t *testing.T) {
	metrics := harness.FreeAddr(t)
	f := newContainerFixture(t, "berth-it-events", "berthitevents", "10.124.30.0/24", fmt.Sprintf("metrics_address = %q", metrics))
	b := f.b
	c, cancel := context.WithCancel(context.Background())
	defer cancel()
	stalled, err := b.Runtime().GetContainerEvents(c, &runtimeapi.GetEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_ = stalled // never read
	reader, err := b.Runtime().GetContainerEvents(c, &runtimeapi.GetEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// The streams are open once berth counts them.
	waitFor(t, time.Minute, func() bool {
		n, err := harness.Metric(metrics, "berth_event_subscribers")
		return err == nil && n == 2
	})
	got := make(chan *runtimeapi.ContainerEventResponse, 10000)
	go func() {
		for {
			ev, err := reader.Recv()
			if err != nil {
				close(got)
				return
			}
			got <- ev
		}
	}()
	// next waits for the reading stream's next event.
	next := func() *runtimeapi.ContainerEventResponse {
		t.Helper()
		select {
		case ev, ok := <-got:
			if !ok {
				t.Fatal("the event stream ended")
			}
			return ev
		case <-time.After(time.Minute):
			t.Fatal("no event for a minute")
		}
		return nil
	}
	expect := func(id string, kind runtimeapi.ContainerEventType) *runtimeapi.ContainerEventResponse {
		t.Helper()
		ev := next()
		if ev.GetContainerId() != id || ev.GetContainerEventType() != kind {
			t.Fatalf("event %s of %s, want %s of %s", ev.GetContainerEventType(), ev.GetContainerId(), kind, id)
		}
		return ev
	}

	p := f.runPod(t, "events", nil)
	expect(p.id, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
	if ev := expect(p.id, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT); ev.GetPodSandboxStatus().GetState() != runtimeapi.PodSandboxState_SANDBOX_READY {
		t.Errorf("the pod's started event carries pod status %v, want ready", ev.GetPodSandboxStatus())
	}
	for i := range 50 {
		cmd := []string{"sleep", "3600"}
		exitsItself := i%2 == 1
		if exitsItself {
			cmd = []string{"sh", "-c", "exit 3"}
		}
		id := runContainer(t, b, p, containerConfig(fmt.Sprintf("c%d", i), cmd...))
		ev := expect(id, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
		if ev.GetPodSandboxStatus().GetId() != p.id || ev.GetCreatedAt() == 0 {
			t.Errorf("created event of %s: pod status %v, time %d", id, ev.GetPodSandboxStatus(), ev.GetCreatedAt())
		}
		ev = expect(id, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
		if i := slices.IndexFunc(ev.GetContainersStatuses(), func(s *runtimeapi.ContainerStatus) bool { return s.GetId() == id }); i < 0 {
			t.Errorf("started event of %s: its status is not among the pod's %v", id, ev.GetContainersStatuses())
		}
		if exitsItself {
			ev = expect(id, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
			for _, s := range ev.GetContainersStatuses() {
				if s.GetId() == id && (s.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || s.GetExitCode() != 3) {
					t.Errorf("stopped event of %s: its status %v, want exited with 3", id, s)
				}
			}
		} else {
			stopContainer(t, b, id, 0)
			expect(id, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
		}
		removeContainer(t, b, id)
		expect(id, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	}
	removePod(t, b, p.id)
	expect(p.id, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
	expect(p.id, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	select {
	case ev := <-got:
		t.Errorf("an event more: %s of %s", ev.GetContainerEventType(), ev.GetContainerId())
	default:
	}

	// Each start's steps went into the histograms: one pod, 50 containers.
	for name, want := range map[string]float64{
		`berth_pod_start_step_seconds_count{step="cni"}`:                  1,
		`berth_pod_start_step_seconds_count{step="namespaces"}`:           1,
		`berth_container_start_step_seconds_count{step="rootfs"}`:         50,
		`berth_container_start_step_seconds_count{step="runtime create"}`: 50,
		`berth_container_start_step_seconds_count{step="runtime start"}`:  50,
		// Every one ended in error: exit 3, or killed by the stop.
		`berth_container_exits_total{reason="Error"}`: 50,
		`berth_image_pulls_total{result="ok"}`:        1,
		`berth_pods{state="ready"}`:                   0,
		`berth_containers{state="running"}`:           0,
	} {
		if got, err := harness.Metric(metrics, name); err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", name, got, err, want)
		}
	}

	cancel()
	waitFor(t, time.Minute, func() bool {
		n, err := harness.Metric(metrics, "berth_event_subscribers")
		return err == nil && n == 0
	})
	f.assertAllClean(t, []testPod{p})
}
