//go:build integration

package integration

import (
	"fmt"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/harness"
)

// The counters of what goes wrong below the CRI and of layer reuse move
// when it happens: a second pull of an image reuses its layers, a
// container whose command does not exist is a runtime create failure, and
// a process of a container killed for memory is an OOM event of the
// container and of its pod, and a container exit by OOMKilled.
func TestFailureReuseAndOOMMetricsMove(t *testing.T) {
	addr := harness.FreeAddr(t)
	f := newContainerFixture(t, "berth-it-metrics", "berthitmetrics", "10.124.33.0/24", fmt.Sprintf("metrics_address = %q", addr))
	b := f.b
	metric := func(name string) float64 {
		v, err := harness.Metric(addr, name)
		if err != nil {
			return 0 // not counted yet
		}
		return v
	}

	reused := metric(`berth_image_layers_total{result="reused"}`)
	if metric(`berth_image_layers_total{result="unpacked"}`) == 0 {
		t.Error("the fixture's first pull unpacked no layer")
	}
	pullImage(t, b, busyboxImage)
	if metric(`berth_image_layers_total{result="reused"}`) <= reused {
		t.Error("pulling an image again reused none of its layers")
	}

	p := f.runPod(t, "metrics", nil)
	createFailures := metric(`berth_runtime_failures_total{command="create",handler="runc"}`)
	if _, err := tryRunContainer(ctx(t), b, p, containerConfig("missing", "/no/such/command")); err == nil {
		t.Fatal("a container whose command does not exist started")
	}
	if got := metric(`berth_runtime_failures_total{command="create",handler="runc"}`) - createFailures; got != 1 {
		t.Errorf("runc create failures rose by %v, want 1", got)
	}

	// The subshell holding 64 MiB is killed for memory; the container's
	// shell lives on.
	oomCfg := containerConfig("oom", "sh", "-c", `(x=$(head -c 67108864 /dev/zero | tr '\0' a); echo ${#x}); sleep 3600`)
	oomCfg.Linux.Resources = &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 32 << 20}
	oom := runContainer(t, b, p, oomCfg)
	waitFor(t, time.Minute, func() bool {
		resp, err := b.Runtime().ListPodSandboxMetrics(ctx(t), &runtimeapi.ListPodSandboxMetricsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, pm := range resp.GetPodMetrics() {
			for _, cm := range pm.GetContainerMetrics() {
				for _, m := range cm.GetMetrics() {
					if cm.GetContainerId() == oom && m.GetName() == "container_oom_events_total" && m.GetValue().GetValue() >= 1 {
						return true
					}
				}
			}
		}
		return false
	})

	// A container killed for memory as a whole exits OOMKilled.
	exits := metric(`berth_container_exits_total{reason="OOMKilled"}`)
	whole := containerConfig("oom-whole", "sh", "-c", `x=$(head -c 67108864 /dev/zero | tr '\0' a); sleep 3600; echo ${#x}`)
	whole.Linux.Resources = &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 32 << 20}
	killed := runContainer(t, b, p, whole)
	if st := waitExited(t, b, killed); st.GetReason() != "OOMKilled" {
		t.Errorf("the container over its memory limit exited with reason %q, want OOMKilled", st.GetReason())
	}
	waitFor(t, time.Minute, func() bool { return metric(`berth_container_exits_total{reason="OOMKilled"}`) > exits })

	stopContainer(t, b, oom, 0)
	f.removeAll(t, p, oom, killed)
}
