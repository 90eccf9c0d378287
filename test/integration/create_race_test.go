//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// gatedRuntime is a runtime handler "gated": runc, whose create waits for
// a gate once the test arms it.
type gatedRuntime struct {
	dir    string // armed, waiting and open files
	config string // berth TOML for the handlers
}

func newGatedRuntime(t *testing.T) *gatedRuntime {
	dir := t.TempDir()
	script := filepath.Join(dir, "runc-gated")
	body := fmt.Sprintf(`#!/bin/sh
for a in "$@"; do
	if [ "$a" = create ] && [ -e %[1]s/armed ]; then
		touch %[1]s/waiting
		while [ ! -e %[1]s/open ]; do sleep 0.05; done
	fi
done
exec /usr/local/sbin/runc "$@"
`, dir)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	return &gatedRuntime{dir: dir, config: fmt.Sprintf(`[runtime.handlers.runc]
path = "/usr/local/sbin/runc"
root = %q
[runtime.handlers.gated]
path = %q
root = %q
`, root, script, root)}
}

func (g *gatedRuntime) arm(t *testing.T) {
	if err := os.WriteFile(filepath.Join(g.dir, "armed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (g *gatedRuntime) open(t *testing.T) {
	if err := os.WriteFile(filepath.Join(g.dir, "open"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (g *gatedRuntime) waiting() bool {
	_, err := os.Stat(filepath.Join(g.dir, "waiting"))
	return err == nil
}

// A container being created (its runtime's create at work) is not listed
// yet, but its image is in use, so image garbage collection cannot delete
// the layers under its new rootfs; and the removal of its pod waits for it
// and removes it too, instead of leaving a container of a removed pod.
func TestContainerBeingCreatedHoldsItsImageAndPod(t *testing.T) {
	g := newGatedRuntime(t)
	f := newContainerFixtureWith(t, "berth-it-cr", "berthitcr", "10.124.22.0/24", g.config)
	b := f.b
	cfg := podConfig("creating", f.parent)
	resp, err := b.Runtime().RunPodSandbox(slowCtx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: "gated"})
	if err != nil {
		t.Fatal(err)
	}
	p := f.describePod(t, resp.GetPodSandboxId(), cfg)

	g.arm(t)
	created := make(chan error, 1)
	go func() {
		_, err := b.Runtime().CreateContainer(slowCtx(t), &runtimeapi.CreateContainerRequest{
			PodSandboxId: p.id, Config: containerConfig("slow", "sleep", "3600"), SandboxConfig: p.cfg,
		})
		created <- err
	}()
	waitFor(t, time.Minute, g.waiting)

	_, err = b.Image().RemoveImage(ctx(t), &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: busyboxImage}})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("RemoveImage of the image a container is being created from = %v, want FailedPrecondition (in use)", err)
	}

	removed := make(chan error, 1)
	go func() {
		c := slowCtx(t)
		if _, err := b.Runtime().StopPodSandbox(c, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.id}); err != nil {
			removed <- err
			return
		}
		_, err := b.Runtime().RemovePodSandbox(c, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.id})
		removed <- err
	}()
	select {
	case err := <-removed:
		g.open(t)
		t.Fatalf("the pod was stopped and removed (%v) while a container of it was being created", err)
	case <-time.After(2 * time.Second):
		// Still waiting for the create, as it must: let it finish.
	}
	g.open(t)
	<-created // made, or refused because its pod stopped: either is fine
	if err := <-removed; err != nil {
		t.Fatalf("removing the pod: %v", err)
	}
	f.assertAllClean(t, []testPod{p})
}
