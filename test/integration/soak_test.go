//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/harness"
)

// soakCycles is how many pod lifecycles the soak runs: a short form in
// make test, 1000 with BERTH_SOAK_CYCLES (make soak).
func soakCycles() int {
	if n, err := strconv.Atoi(os.Getenv("BERTH_SOAK_CYCLES")); err == nil && n > 0 {
		return n
	}
	return 60
}

// daemonUsage is what berth holds: resident memory, goroutines, open fds.
type daemonUsage struct {
	rss        float64
	goroutines float64
	fds        int
	fdTargets  []string // what each fd is, for a failure to show
}

func usageOf(t *testing.T, b *harness.Berth, metrics string) daemonUsage {
	t.Helper()
	rss, err := harness.Metric(metrics, "process_resident_memory_bytes")
	if err != nil {
		t.Fatal(err)
	}
	g, err := harness.Metric(metrics, "go_goroutines")
	if err != nil {
		t.Fatal(err)
	}
	fds, err := b.OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	return daemonUsage{rss: rss, goroutines: g, fds: len(fds), fdTargets: fds}
}

func (u daemonUsage) String() string {
	return fmt.Sprintf("RSS %.1f MiB, %v goroutines, %d fds", u.rss/(1<<20), u.goroutines, u.fds)
}

// lifecycle is one pod and its container through kubelet's calls: run,
// status, create, start, status, exec, stop, remove, stop pod, remove pod.
func lifecycle(c context.Context, t *testing.T, f *containerFixture, name string) {
	rt := f.b.Runtime()
	cfg := podConfig(name, f.parent)
	must := func(what string, err error) {
		if err != nil {
			t.Errorf("%s %s: %v", what, name, err)
		}
	}
	pod, err := rt.RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Errorf("RunPodSandbox %s: %v", name, err)
		return
	}
	id := pod.GetPodSandboxId()
	_, err = rt.PodSandboxStatus(c, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	must("PodSandboxStatus", err)
	ctr, err := rt.CreateContainer(c, &runtimeapi.CreateContainerRequest{PodSandboxId: id, Config: containerConfig("app", "sh", "-c", `trap "exit 0" TERM; sleep 3600 & wait`), SandboxConfig: cfg})
	must("CreateContainer", err)
	cid := ctr.GetContainerId()
	if cid != "" {
		_, err = rt.StartContainer(c, &runtimeapi.StartContainerRequest{ContainerId: cid})
		must("StartContainer", err)
		_, err = rt.ContainerStatus(c, &runtimeapi.ContainerStatusRequest{ContainerId: cid})
		must("ContainerStatus", err)
		resp, err := rt.ExecSync(c, &runtimeapi.ExecSyncRequest{ContainerId: cid, Cmd: []string{"echo", "ok"}, Timeout: 10})
		must("ExecSync", err)
		if err == nil && string(resp.GetStdout()) != "ok\n" {
			t.Errorf("ExecSync %s: stdout %q", name, resp.GetStdout())
		}
		_, err = rt.StopContainer(c, &runtimeapi.StopContainerRequest{ContainerId: cid, Timeout: 2})
		must("StopContainer", err)
		_, err = rt.RemoveContainer(c, &runtimeapi.RemoveContainerRequest{ContainerId: cid})
		must("RemoveContainer", err)
	}
	_, err = rt.StopPodSandbox(c, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id})
	must("StopPodSandbox", err)
	_, err = rt.RemovePodSandbox(c, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id})
	must("RemovePodSandbox", err)
}

// Pods and containers created, exec'd into, stopped and removed, two at a
// time while a relist runs, as kubelet does: afterwards berth holds no more
// goroutines or fds than before, its memory has not grown without bound,
// and nothing is left on the host.
func TestSoakPodLifecycles(t *testing.T) {
	metrics := harness.FreeAddr(t)
	f := newContainerFixture(t, "berth-it-soak", "berthitsoak", "10.124.25.0/24", fmt.Sprintf("metrics_address = %q", metrics))
	b := f.b
	// Each lifecycle has its own deadline: the soak as a whole runs as long
	// as its cycles take.
	run := func(name string) {
		c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		lifecycle(c, t, f, name)
	}
	for i := range 4 { // warm-up: pools, caches and the first pull settle
		run(fmt.Sprintf("warm-%d", i))
	}
	before := usageOf(t, b, metrics)

	cycles := soakCycles()
	var next atomic.Int64
	relist, stopRelist := context.WithCancel(context.Background())
	relisted := make(chan struct{})
	go func() { // kubelet's PLEG relists every second
		defer close(relisted)
		for relist.Err() == nil {
			b.Runtime().ListPodSandbox(relist, &runtimeapi.ListPodSandboxRequest{})
			b.Runtime().ListContainers(relist, &runtimeapi.ListContainersRequest{})
			select {
			case <-relist.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	start := time.Now()
	forEach(cycles, 2, func(int) error {
		run(fmt.Sprintf("soak-%d", next.Add(1)))
		return nil
	})
	stopRelist()
	<-relisted
	t.Logf("%d lifecycles in %s", cycles, time.Since(start).Round(time.Millisecond))

	var after daemonUsage
	settled := eventually(30*time.Second, func() bool {
		after = usageOf(t, b, metrics)
		return after.goroutines <= before.goroutines && after.fds <= before.fds
	})
	t.Logf("before: %s; after: %s", before, after)
	if !settled {
		t.Errorf("berth holds more than before the soak: %s, then %s\nfds before: %q\nfds after:  %q", before, after, before.fdTargets, after.fdTargets)
	}
	// Memory is checked against a bound, not the byte: the Go heap gives
	// pages back lazily, and a race-built daemon's shadow memory grows.
	if after.rss > before.rss+64<<20 {
		t.Errorf("berth's RSS grew from %.1f to %.1f MiB over %d lifecycles", before.rss/(1<<20), after.rss/(1<<20), cycles)
	}
	f.assertAllClean(t, []testPod{{id: f.n.Name}})
}
