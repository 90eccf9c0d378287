//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/test/harness"
)

// stopSignalImage is busybox with STOPSIGNAL SIGUSR2 (test/registry).
const stopSignalImage = "registry.k8s.io/berth-test/stopsignal:1"

// trapping is a container that says "up" once its traps are set, then
// waits: each trap exits with its own code, so the exit code tells which
// signal StopContainer sent. SIGTERM is ignored unless trapped.
func trapping(name, image string, traps map[string]int) *runtimeapi.ContainerConfig {
	script := `trap "" TERM; `
	for sig, code := range traps {
		script += fmt.Sprintf(`trap "echo got %s; exit %d" %s; `, sig, code, sig)
	}
	cfg := containerConfig(name, "sh", "-c", script+"echo up; while :; do sleep 0.1; done")
	cfg.Image.Image = image
	return cfg
}

// waitLog waits for the container log at path to hold s.
func waitLog(t *testing.T, path, s string) {
	t.Helper()
	waitFor(t, 30*time.Second, func() bool {
		data, _ := os.ReadFile(path)
		return strings.Contains(string(data), s)
	})
}

// StopContainer sends the stop signal the container chose (the CRI
// config's, else the image's STOPSIGNAL, else SIGTERM) and waits for a
// graceful exit, whose code it reports: none of these containers is
// killed.
func TestStopSignalsAndGracefulExit(t *testing.T) {
	f := newContainerFixture(t, "berth-it-csig", "berthitcsig", "10.124.11.0/24")
	b := f.b
	pullImage(t, b, stopSignalImage)
	p := f.runPod(t, "signals", nil)

	usr1 := trapping("cri-signal", stopSignalImage, map[string]int{"USR1": 41, "USR2": 42})
	usr1.StopSignal = runtimeapi.Signal_SIGNAL_SIGUSR1
	tests := []struct {
		name       string
		cfg        *runtimeapi.ContainerConfig
		wantSignal runtimeapi.Signal
		wantCode   int32
		wantReason string
	}{
		{"SIGTERM by default", trapping("term", busyboxImage, map[string]int{"TERM": 0, "USR2": 42}), runtimeapi.Signal_SIGNAL_SIGTERM, 0, "Completed"},
		{"the image's STOPSIGNAL", trapping("image-signal", stopSignalImage, map[string]int{"TERM": 15, "USR2": 42}), runtimeapi.Signal_SIGNAL_SIGUSR2, 42, "Error"},
		{"the CRI stop signal over the image's", usr1, runtimeapi.Signal_SIGNAL_SIGUSR1, 41, "Error"},
	}
	var ids []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := runContainer(t, b, p, tt.cfg)
			ids = append(ids, id)
			st, _ := containerStatus(t, b, id)
			if st.GetStopSignal() != tt.wantSignal {
				t.Errorf("stop signal %s, want %s", st.GetStopSignal(), tt.wantSignal)
			}
			waitLog(t, st.GetLogPath(), "up")
			stopContainer(t, b, id, 60)
			st, _ = containerStatus(t, b, id)
			if st.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || st.GetExitCode() != tt.wantCode || st.GetReason() != tt.wantReason {
				t.Errorf("after stop: %s, exit %d, reason %q; want EXITED, %d, %q (the trap's, not SIGKILL's 137)",
					st.GetState(), st.GetExitCode(), st.GetReason(), tt.wantCode, tt.wantReason)
			}
		})
	}
	f.removeAll(t, p, ids...)
}

// A container whose monitor died with it, before writing the exit file,
// reads exited with the unknown code 255 and says why. Its stop is
// announced as it happens, with no status call to find it out: berth
// watches each monitor's exit, the ones it started and, after a restart,
// the ones it found.
func TestMonitorDeathIsAnUnknownExit(t *testing.T) {
	metrics := harness.FreeAddr(t)
	f := newContainerFixture(t, "berth-it-cmon", "berthitcmon", "10.124.12.0/24", fmt.Sprintf("metrics_address = %q", metrics))
	b := f.b
	p := f.runPod(t, "monitor", nil)
	killBoth := func(id string) {
		t.Helper()
		_, info := containerStatus(t, b, id)
		events, cancel := context.WithCancel(context.Background())
		defer cancel()
		stream, err := b.Runtime().GetContainerEvents(events, &runtimeapi.GetEventsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		// The stream is open once berth counts it: a kill before would
		// make an event no one hears.
		waitFor(t, time.Minute, func() bool {
			n, err := harness.Metric(metrics, "berth_event_subscribers")
			return err == nil && n == 1
		})
		for _, pid := range []int{info.ConmonPID, info.PID} {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatalf("kill %d: %v", pid, err)
			}
		}
		stopped := make(chan error, 1)
		go func() {
			for {
				ev, err := stream.Recv()
				if err != nil {
					stopped <- err
					return
				}
				if ev.GetContainerId() == id && ev.GetContainerEventType() == runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT {
					stopped <- nil
					return
				}
			}
		}()
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("event stream: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no stopped event 30 s after its monitor and process were killed", id)
		}
		st, _ := containerStatus(t, b, id)
		if st.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || st.GetExitCode() != 255 || st.GetReason() != "Error" || !strings.Contains(st.GetMessage(), "exit code unknown") {
			t.Fatalf("%s: monitor and process gone: %s, exit %d, reason %q, message %q; want EXITED 255 Error, exit code unknown",
				id, st.GetState(), st.GetExitCode(), st.GetReason(), st.GetMessage())
		}
	}
	started := runContainer(t, b, p, containerConfig("orphan", "sleep", "3600"))
	found := runContainer(t, b, p, containerConfig("found", "sleep", "3600"))
	killBoth(started)
	// A monitor berth did not start (it found it at start-up) is watched too.
	if err := b.Stop(); err != nil {
		t.Fatalf("berth did not stop cleanly: %v", err)
	}
	b.Restart(t)
	killBoth(found)
	f.removeAll(t, p, started, found)
}

// A container that exits while berth is down reads exited, with the code
// its monitor recorded, once berth is back.
func TestContainerExitedWhileBerthWasDown(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cdown", "berthitcdown", "10.124.13.0/24")
	b := f.b
	p := f.runPod(t, "down", nil)
	id := runContainer(t, b, p, containerConfig("gone", "sleep", "3600"))
	_, info := containerStatus(t, b, id)
	start := mustStart(t, info.PID)

	if err := b.Stop(); err != nil {
		t.Fatalf("berth did not stop cleanly: %v", err)
	}
	if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return !proc.Alive(info.PID, start) })
	// conmon writes the exit file and goes: wait for it to finish.
	waitFor(t, 30*time.Second, func() bool { return !proc.Alive(info.ConmonPID, mustStartOrZero(info.ConmonPID)) })
	b.Restart(t)

	st, _ := containerStatus(t, b, id)
	if st.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || st.GetExitCode() != 137 || st.GetFinishedAt() == 0 {
		t.Fatalf("after the restart: %s, exit %d, finished %d; want EXITED 137 with a finish time", st.GetState(), st.GetExitCode(), st.GetFinishedAt())
	}
	f.removeAll(t, p, id)
}

// mustStartOrZero is a process's start time, or 0 when it is gone.
func mustStartOrZero(pid int) uint64 {
	st, err := proc.ReadStat(pid)
	if err != nil {
		return 0
	}
	return st.StartTime
}

// berth killed while conmon runs the runtime's create: at restart the
// half-created container is rolled back (its monitor and what it started
// killed, its rootfs unmounted, its dirs and record gone), and its name
// is free again.
func TestHalfCreatedContainerRolledBackAtRestart(t *testing.T) {
	dir := t.TempDir()
	started, gate := filepath.Join(dir, "create-started"), filepath.Join(dir, "create-open")
	hang := uniqueSleep()
	// A runtime that holds a container's create (never the pause's) until
	// the gate file exists.
	wrapper := filepath.Join(dir, "slow-runc")
	script := fmt.Sprintf(`#!/bin/sh
for a in "$@"; do
	case "$a" in */run/containers/*)
		if [ ! -e %q ]; then touch %q; exec %s; fi ;;
	esac
done
exec /usr/local/sbin/runc "$@"
`, gate, started, hang)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	handlers := fmt.Sprintf("[runtime.handlers.runc]\npath = %q\nroot = %q\n[runtime.handlers.crun]\npath = \"/usr/bin/crun\"\nroot = %q\n",
		wrapper, filepath.Join(dir, "runc-state"), filepath.Join(dir, "crun-state"))
	f := newContainerFixtureWith(t, "berth-it-chalf", "berthitchalf", "10.124.14.0/24", handlers)
	b := f.b
	p := f.runPod(t, "half", nil)

	cfg := containerConfig("half", "sleep", "3600")
	short, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// The create goes on detached once the call gives up.
	b.Runtime().CreateContainer(short, &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: cfg, SandboxConfig: p.cfg})
	waitFor(t, 30*time.Second, func() bool { _, err := os.Stat(started); return err == nil })
	b.Kill()
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	b.Restart(t)

	if left := listContainers(t, b, nil); len(left) != 0 {
		t.Fatalf("a half-created container is listed after the restart: %v", left)
	}
	if pids := pgrepFull(hang); len(pids) > 0 {
		t.Errorf("the runtime's create of the rolled-back container still runs: %v", pids)
	}
	// The name is free: the same create now succeeds.
	id := runContainer(t, b, p, cfg)
	f.removeAll(t, p, id)
}

// The crun handler: a pod on it runs a container, or, with a crun too old
// for the runtime-spec berth writes (Debian 12's 1.8.1), StartContainer
// (which waits for the runtime's create) says so, the container is exited
// with StartError, and removing it leaves nothing behind. (The pod itself
// needs no runtime.)
func TestCrunHandler(t *testing.T) {
	f := newContainerFixture(t, "berth-it-crun", "berthitcrun", "10.124.15.0/24")
	b := f.b
	cfg := podConfig("on-crun", f.parent)
	resp, err := b.Runtime().RunPodSandbox(slowCtx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: "crun"})
	if err != nil {
		t.Fatalf("a pod on crun: %v", err)
	}
	p := f.describePod(t, resp.GetPodSandboxId(), cfg)
	id, err := tryRunContainer(slowCtx(t), b, p, containerConfig("app", "sleep", "3600"))
	if err != nil {
		if !strings.Contains(err.Error(), "does not support OCI runtime-spec") {
			t.Fatalf("a container on crun failed without saying why: %v", err)
		}
		t.Logf("crun on this host is too old for berth's specs: %v", err)
		if id == "" {
			t.Fatalf("CreateContainer failed (%v); the runtime's create, after it, is what fails", err)
		}
		if st, _ := containerStatus(t, b, id); st.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || st.GetReason() != "StartError" {
			t.Errorf("the container crun could not create is %v (%s), want exited with StartError", st.GetState(), st.GetReason())
		}
		removeContainer(t, b, id)
		if left := listContainers(t, b, nil); len(left) != 0 {
			t.Fatalf("containers listed after the failed one was removed: %v", left)
		}
		removePod(t, b, p.id)
		f.assertAllClean(t, []testPod{p})
		return
	}
	if out := execSync(t, b, id, "echo", "on crun"); out != "on crun\n" {
		t.Fatalf("exec in a crun container: %q", out)
	}
	f.removeAll(t, p, id)
}

// UpdateContainerResources resizes a running container's cgroup in place
// and ContainerStatus reports the resources in force; an exited container
// cannot be resized.
func TestUpdateContainerResources(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cres", "berthitcres", "10.124.17.0/24")
	b := f.b
	p := f.runPod(t, "resize", nil)
	cfg := containerConfig("app", "sleep", "3600")
	cfg.Linux.Resources = &runtimeapi.LinuxContainerResources{CpuShares: 256, MemoryLimitInBytes: 128 << 20}
	id := runContainer(t, b, p, cfg)

	resized := &runtimeapi.LinuxContainerResources{CpuShares: 768, MemoryLimitInBytes: 192 << 20}
	if _, err := b.Runtime().UpdateContainerResources(ctx(t), &runtimeapi.UpdateContainerResourcesRequest{ContainerId: id, Linux: resized}); err != nil {
		t.Fatal(err)
	}
	st, _ := containerStatus(t, b, id)
	if got := st.GetResources().GetLinux(); got.GetCpuShares() != 768 || got.GetMemoryLimitInBytes() != 192<<20 {
		t.Errorf("status resources %v, want the update's", got)
	}
	// The kernel has them: cpu.shares and the memory limit of the
	// container's cgroup (v1), or cpu.weight and memory.max (v2).
	files := map[string]string{"cpu.shares": "768", "memory.limit_in_bytes": fmt.Sprint(192 << 20), "memory.max": fmt.Sprint(192 << 20)}
	found := 0
	for _, dir := range harness.CgroupDirs(f.parent + "/berth-" + id) {
		for name, want := range files {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			found++
			if got := strings.TrimSpace(string(data)); got != want {
				t.Errorf("%s/%s = %s, want %s", dir, name, got, want)
			}
		}
	}
	if found < 2 {
		t.Errorf("found %d of the container's cgroup limit files under %s", found, f.parent)
	}

	stopContainer(t, b, id, 0)
	_, err := b.Runtime().UpdateContainerResources(ctx(t), &runtimeapi.UpdateContainerResourcesRequest{ContainerId: id, Linux: resized})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("resizing an exited container: want FailedPrecondition, got %v", err)
	}
	f.removeAll(t, p, id)
}

// ExecSync's reply fits kubelet's 16 MiB message limit whatever the
// command prints: the output is truncated (both streams together), never
// a ResourceExhausted in the client.
func TestExecSyncOutputFitsTheMessageLimit(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cbig", "berthitcbig", "10.124.18.0/24")
	b := f.b
	p := f.runPod(t, "big", nil)
	id := runContainer(t, b, p, containerConfig("app", "sleep", "3600"))
	for name, script := range map[string]string{
		"20 MB of stdout":            "head -c 20000000 /dev/zero",
		"12 MB of stdout and stderr": "head -c 12000000 /dev/zero; head -c 12000000 /dev/zero >&2",
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := b.Runtime().ExecSync(ctx(t), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: []string{"sh", "-c", script}, Timeout: 60})
			if err != nil {
				t.Fatalf("ExecSync: %v", err)
			}
			got := len(resp.GetStdout()) + len(resp.GetStderr())
			if got == 0 || got > 16<<20 || resp.GetExitCode() != 0 {
				t.Errorf("%d bytes of output (exit %d); want some, at most 16 MiB", got, resp.GetExitCode())
			}
		})
	}
	if !b.WaitForLog("ExecSync output truncated", 10*time.Second) {
		t.Error("the truncation is not logged")
	}
	f.removeAll(t, p, id)
}
