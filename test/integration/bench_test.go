//go:build integration

package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/harness"
)

const benchImage = "registry.k8s.io/e2e-test-images/busybox:1.29-2"

// BenchmarkRunPodSandbox measures RunPodSandbox alone (netns, CNI ADD,
// files, shm, pause); stopping and removing the pod is left out of the time.
// Run it against a non-race binary: make bench sets BERTH_BINARY.
func BenchmarkRunPodSandbox(b *testing.B) {
	n := harness.NewNetwork(b, "berth-bench", "berthbench", "10.125.0.0/16")
	d := harness.Start(b, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m")})
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		resp, err := d.Runtime().RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podConfig(fmt.Sprintf("bench%d", i), "")})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		benchRemovePod(b, d, resp.GetPodSandboxId())
		b.StartTimer()
	}
}

// BenchmarkCreateStartContainer measures CreateContainer + StartContainer
// (overlay mount, spec, conmon, runc create and start) in a ready pod.
func BenchmarkCreateStartContainer(b *testing.B) {
	n := harness.NewNetwork(b, "berth-bench-c", "berthbenchc", "10.126.0.0/16")
	reg := harness.Registry(b)
	d := harness.Start(b, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m"), Config: harness.MirrorConfig(reg)})
	ctx := context.Background()
	if _, err := d.Image().PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: benchImage}}); err != nil {
		b.Fatal(err)
	}
	pod := podConfig("bench", "")
	resp, err := d.Runtime().RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: pod})
	if err != nil {
		b.Fatal(err)
	}
	podID := resp.GetPodSandboxId()
	defer benchRemovePod(b, d, podID)
	var create, start time.Duration
	b.ResetTimer()
	for i := range b.N {
		cfg := &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: fmt.Sprintf("c%d", i)},
			Image:    &runtimeapi.ImageSpec{Image: benchImage},
			Command:  []string{"sleep", "3600"},
			Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER},
			}},
		}
		began := time.Now()
		c, err := d.Runtime().CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pod})
		if err != nil {
			b.Fatal(err)
		}
		created := time.Now()
		if _, err := d.Runtime().StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: c.GetContainerId()}); err != nil {
			b.Fatal(err)
		}
		// The runtime's create runs on after CreateContainer returns, so
		// StartContainer's share is most of the total.
		create, start = create+created.Sub(began), start+time.Since(created)
		b.StopTimer()
		if _, err := d.Runtime().RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.GetContainerId()}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(create.Microseconds())/1000/float64(b.N), "create-ms/op")
	b.ReportMetric(float64(start.Microseconds())/1000/float64(b.N), "start-ms/op")
}

func benchRemovePod(b *testing.B, d *harness.Berth, id string) {
	ctx := context.Background()
	if _, err := d.Runtime().StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Runtime().RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRestartWith100Pods measures how long berth, killed with 100
// pods of one running container each, takes from its start to answering
// ListPodSandbox and ListContainers with all of them: its records loaded,
// the containers' states refreshed, half-done work rolled back.
func BenchmarkRestartWith100Pods(b *testing.B) {
	const pods = 100
	n := harness.NewNetwork(b, "berth-bench-r", "berthbenchr", "10.127.0.0/16")
	reg := harness.Registry(b)
	d := harness.Start(b, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m"), Config: harness.MirrorConfig(reg)})
	ctx := context.Background()
	if _, err := d.Image().PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: benchImage}}); err != nil {
		b.Fatal(err)
	}
	var ids []string
	b.Cleanup(func() {
		for _, id := range ids {
			benchRemovePod(b, d, id)
		}
	})
	for i := range pods {
		pod := podConfig(fmt.Sprintf("restart%d", i), "")
		resp, err := d.Runtime().RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: pod})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, resp.GetPodSandboxId())
		cfg := &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
			Image:    &runtimeapi.ImageSpec{Image: benchImage},
			Command:  []string{"sleep", "3600"},
			Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER},
			}},
		}
		c, err := d.Runtime().CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: resp.GetPodSandboxId(), Config: cfg, SandboxConfig: pod})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Runtime().StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: c.GetContainerId()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		d.Kill()
		b.StartTimer()
		d.Restart(b)
		podList, err := d.Runtime().ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
		if err != nil || len(podList.GetItems()) != pods {
			b.Fatalf("after the restart: %d pods listed, %v", len(podList.GetItems()), err)
		}
		ctrs, err := d.Runtime().ListContainers(ctx, &runtimeapi.ListContainersRequest{
			Filter: &runtimeapi.ContainerFilter{State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}},
		})
		if err != nil || len(ctrs.GetContainers()) != pods {
			b.Fatalf("after the restart: %d containers running, %v", len(ctrs.GetContainers()), err)
		}
	}
}
