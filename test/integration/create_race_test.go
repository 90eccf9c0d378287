//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// gatedRuntime is a runtime handler "gated": runc, whose create waits for
// a gate once the test arms it, its arguments written to the waiting file.
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
		echo "$@" >%[1]s/waiting
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

// runGatedPod runs a pod on the gated handler, whose containers get it too.
func (f *containerFixture) runGatedPod(t *testing.T, name string) testPod {
	t.Helper()
	cfg := podConfig(name, f.parent)
	resp, err := f.b.Runtime().RunPodSandbox(slowCtx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: "gated"})
	if err != nil {
		t.Fatal(err)
	}
	return f.describePod(t, resp.GetPodSandboxId(), cfg)
}

func (g *gatedRuntime) waiting() bool {
	_, err := os.Stat(filepath.Join(g.dir, "waiting"))
	return err == nil
}

// A container being created (its runtime's create at work, after
// CreateContainer returned) holds its image, so image garbage collection
// cannot delete the layers under its new rootfs; and the removal of its
// pod waits for it and removes it too, instead of leaving a container of a
// removed pod.
func TestContainerBeingCreatedHoldsItsImageAndPod(t *testing.T) {
	g := newGatedRuntime(t)
	f := newContainerFixtureWith(t, "berth-it-cr", "berthitcr", "10.124.22.0/24", g.config)
	b := f.b
	p := f.runGatedPod(t, "creating")

	g.arm(t)
	created := make(chan error, 1)
	go func() {
		_, err := b.Runtime().CreateContainer(slowCtx(t), &runtimeapi.CreateContainerRequest{
			PodSandboxId: p.id, Config: containerConfig("slow", "sleep", "3600"), SandboxConfig: p.cfg,
		})
		created <- err
	}()
	waitFor(t, time.Minute, g.waiting)

	_, err := b.Image().RemoveImage(ctx(t), &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: busyboxImage}})
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

// bundle is the bundle of the create waiting at the gate.
func (g *gatedRuntime) bundle(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(g.dir, "waiting"))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(string(data))
	if i := slices.Index(args, "--bundle"); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	t.Fatalf("no --bundle in the runtime's create arguments %q", args)
	return ""
}

// addHook adds an OCI hook to the config.json of bundle.
func addHook(t *testing.T, bundle, kind string, hook map[string]any) {
	t.Helper()
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	hooks, _ := spec["hooks"].(map[string]any)
	if hooks == nil {
		hooks = map[string]any{}
	}
	list, _ := hooks[kind].([]any)
	hooks[kind] = append(list, hook)
	spec["hooks"] = hooks
	if data, err = json.Marshal(spec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// berth dies while the runtime's create of a container has made its
// cgroup but not yet saved its state (a createRuntime hook holds it there):
// the runtime's delete then knows no such container. The rollback at
// restart still removes the cgroup from every hierarchy, and the rest.
func TestCreateKilledAfterItsCgroupLeavesNoCgroup(t *testing.T) {
	g := newGatedRuntime(t)
	f := newContainerFixtureWith(t, "berth-it-cgkill", "berthitcgkill", "10.124.26.0/24", g.config)
	b := f.b
	p := f.runGatedPod(t, "cgkill")

	g.arm(t)
	go b.Runtime().CreateContainer(context.Background(), &runtimeapi.CreateContainerRequest{
		PodSandboxId: p.id, Config: containerConfig("held", "sleep", "3600"), SandboxConfig: p.cfg,
	})
	waitFor(t, time.Minute, g.waiting)
	bundle := g.bundle(t)
	id := filepath.Base(bundle)
	hooked := filepath.Join(g.dir, "hooked")
	addHook(t, bundle, "createRuntime", map[string]any{
		"path": "/bin/sh",
		"args": []string{"sh", "-c", fmt.Sprintf("touch %s; exec sleep 3600", hooked)},
	})
	g.open(t)
	waitFor(t, time.Minute, func() bool {
		_, err := os.Stat(hooked)
		return err == nil
	})
	cgroups := func() []string {
		var out []string
		for _, d := range harness.CgroupDirs(f.parent) {
			if _, err := os.Stat(filepath.Join(d, "berth-"+id)); err == nil {
				out = append(out, filepath.Join(d, "berth-"+id))
			}
		}
		return out
	}
	if len(cgroups()) == 0 {
		t.Fatalf("the create held in its hook has made no cgroup berth-%s under %s: the test sets up nothing", id, f.parent)
	}

	b.Kill()
	b.Restart(t)
	if left := cgroups(); len(left) != 0 {
		t.Errorf("the half-created container's cgroup is left after the rollback: %q", left)
	}
	if ctrs := listContainers(t, b, nil); len(ctrs) != 0 {
		t.Errorf("containers listed after the rollback: %v", ctrs)
	}
	if _, err := b.Runtime().StopPodSandbox(slowCtx(t), &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.id}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Runtime().RemovePodSandbox(slowCtx(t), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.id}); err != nil {
		t.Fatal(err)
	}
	f.assertAllClean(t, []testPod{p})
}

// CreateContainer returns once the container is prepared; the runtime's
// create goes on after it, and StartContainer waits for it. Until then the
// container is listed created.
func TestCreateReturnsBeforeTheRuntimesCreate(t *testing.T) {
	g := newGatedRuntime(t)
	f := newContainerFixtureWith(t, "berth-it-cbg", "berthitcbg", "10.124.42.0/24", g.config)
	b := f.b
	p := f.runGatedPod(t, "background")

	g.arm(t)
	// With the runtime's create held, a CreateContainer that waited for
	// it would run out of this time.
	short, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	created, err := b.Runtime().CreateContainer(short, &runtimeapi.CreateContainerRequest{
		PodSandboxId: p.id, Config: containerConfig("app", "sleep", "3600"), SandboxConfig: p.cfg,
	})
	if err != nil {
		g.open(t)
		t.Fatalf("CreateContainer with the runtime's create held: %v", err)
	}
	id := created.GetContainerId()
	waitFor(t, time.Minute, g.waiting)
	if st, _ := containerStatus(t, b, id); st.GetState() != runtimeapi.ContainerState_CONTAINER_CREATED {
		t.Errorf("a container whose runtime create is at work is %v, want created", st.GetState())
	}
	if got := listContainers(t, b, nil); len(got) != 1 || got[0].GetId() != id {
		t.Errorf("listed while the runtime creates it: %v, want %s", got, id)
	}

	started := make(chan error, 1)
	go func() {
		_, err := b.Runtime().StartContainer(slowCtx(t), &runtimeapi.StartContainerRequest{ContainerId: id})
		started <- err
	}()
	select {
	case err := <-started:
		g.open(t)
		t.Fatalf("StartContainer returned (%v) while the runtime's create was still held", err)
	case <-time.After(time.Second):
	}
	g.open(t)
	if err := <-started; err != nil {
		t.Fatalf("StartContainer once the runtime's create ended: %v", err)
	}
	if out := execSync(t, b, id, "echo", "up"); out != "up\n" {
		t.Errorf("exec in the started container: %q", out)
	}
	f.removeAll(t, p, id)
}

// A runtime create that fails after CreateContainer returned (a command
// the image lacks: runc refuses it at create) fails StartContainer with
// the runtime's message, and leaves the container exited as containerd
// leaves one whose task could not start: reason StartError, exit code 128,
// the message, its cgroup gone, through a restart.
// Removing it leaves nothing.
func TestFailedRuntimeCreateFailsTheStart(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cfail", "berthitcfail", "10.124.43.0/24")
	b := f.b
	p := f.runPod(t, "fails", nil)
	id, err := tryRunContainer(ctx(t), b, p, containerConfig("missing", "/no/such/command"))
	if err == nil {
		t.Fatal("a container whose command does not exist started")
	}
	if id == "" {
		t.Fatalf("CreateContainer failed (%v); the runtime's create, after it, is what fails", err)
	}
	const says = "/no/such/command"
	if !strings.Contains(err.Error(), says) {
		t.Errorf("StartContainer = %v, want the runtime's message naming %s", err, says)
	}
	check := func(when string) {
		t.Helper()
		st, _ := containerStatus(t, b, id)
		if st.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || st.GetReason() != "StartError" || st.GetExitCode() != 128 ||
			!strings.Contains(st.GetMessage(), says) || st.GetStartedAt() != 0 || st.GetFinishedAt() == 0 {
			t.Errorf("%s: the container whose create failed is %v reason %q code %d message %q started %d finished %d; want exited, StartError, 128, the runtime's message, never started",
				when, st.GetState(), st.GetReason(), st.GetExitCode(), st.GetMessage(), st.GetStartedAt(), st.GetFinishedAt())
		}
		if _, err := b.Runtime().StartContainer(ctx(t), &runtimeapi.StartContainerRequest{ContainerId: id}); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: StartContainer again = %v, want the create's error", when, err)
		}
		for _, d := range harness.CgroupDirs(f.parent) {
			if _, err := os.Stat(filepath.Join(d, "berth-"+id)); err == nil {
				t.Errorf("%s: the failed container's cgroup %s is left", when, filepath.Join(d, "berth-"+id))
			}
		}
	}
	check("after the failure")
	b.Kill()
	b.Restart(t)
	check("after a restart")
	f.removeAll(t, p, id)
}

// berth stopped (SIGTERM) while a container's runtime create runs on after
// CreateContainer returned waits for that create before it closes its
// store: after the restart the container kubelet was given is there,
// created, and starts (cut off, it would be rolled back and gone).
func TestShutdownWaitsForARuntimeCreate(t *testing.T) {
	g := newGatedRuntime(t)
	f := newContainerFixtureWith(t, "berth-it-cdrain", "berthitcdrain", "10.124.44.0/24", g.config)
	b := f.b
	p := f.runGatedPod(t, "drain")

	g.arm(t)
	created, err := b.Runtime().CreateContainer(slowCtx(t), &runtimeapi.CreateContainerRequest{
		PodSandboxId: p.id, Config: containerConfig("app", "sleep", "3600"), SandboxConfig: p.cfg,
	})
	if err != nil {
		g.open(t)
		t.Fatal(err)
	}
	id := created.GetContainerId()
	waitFor(t, time.Minute, g.waiting)
	stopped := make(chan error, 1)
	go func() { stopped <- b.Stop() }()
	time.Sleep(time.Second) // berth is shutting down, the create still held
	g.open(t)
	if err := <-stopped; err != nil {
		t.Fatalf("berth stopping with a runtime create at work: %v\n%s", err, b.Logs())
	}
	b.Restart(t)
	if st, _ := containerStatus(t, b, id); st.GetState() != runtimeapi.ContainerState_CONTAINER_CREATED {
		t.Fatalf("after the restart the container whose create ended during the shutdown is %v, want created\n%s", st.GetState(), b.Logs())
	}
	if _, err := b.Runtime().StartContainer(ctx(t), &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("starting it after the restart: %v", err)
	}
	if out := execSync(t, b, id, "echo", "up"); out != "up\n" {
		t.Errorf("exec in the container: %q", out)
	}
	f.removeAll(t, p, id)
}
