//go:build integration

package integration

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/test/harness"
)

const (
	busyboxImage = "registry.k8s.io/e2e-test-images/busybox:1.29-2"
	pauseImage   = "registry.k8s.io/pause:3.10"
)

// containerFixture is a berth with its own network, cgroup parent and the
// busybox image pulled.
type containerFixture struct {
	b      *harness.Berth
	n      *harness.Network
	parent string
}

// testPod is a running pod and what its cleanup check needs.
type testPod struct {
	id  string
	cfg *runtimeapi.PodSandboxConfig
	pid int
	ip  string
}

// newContainerFixture starts berth on a private network with the test
// registry; topLevel adds top-level config keys.
func newContainerFixture(t *testing.T, name, bridge, subnet string, topLevel ...string) *containerFixture {
	t.Helper()
	return newContainerFixtureWith(t, name, bridge, subnet, "", topLevel...)
}

// newContainerFixtureWith is newContainerFixture with more config tables.
func newContainerFixtureWith(t *testing.T, name, bridge, subnet, tables string, topLevel ...string) *containerFixture {
	t.Helper()
	f := startContainerFixture(t, name, bridge, subnet, harness.Options{Config: tables, TopLevel: strings.Join(topLevel, "\n")})
	pullImage(t, f.b, busyboxImage)
	return f
}

// startContainerFixture starts berth with opts on a private network with
// the test registry, pulling nothing.
func startContainerFixture(t *testing.T, name, bridge, subnet string, opts harness.Options) *containerFixture {
	t.Helper()
	reg := harness.Registry(t)
	n := harness.NewNetwork(t, name, bridge, subnet)
	parent := cgroupParent(t) // its cleanup runs after berth's
	opts.Config = harness.MirrorConfig(reg) + opts.Config
	opts.CNIConfDir, opts.CNI = n.ConfDir, n.Config("2m")
	b := harness.Start(t, opts)
	// A failed test must not leave containers running on the host: remove
	// every pod (and so its containers) before berth stops.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		list, err := b.Runtime().ListPodSandbox(c, &runtimeapi.ListPodSandboxRequest{})
		if err != nil {
			return
		}
		for _, p := range list.GetItems() {
			b.Runtime().StopPodSandbox(c, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.GetId()})
			b.Runtime().RemovePodSandbox(c, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.GetId()})
		}
	})
	return &containerFixture{b: b, n: n, parent: parent}
}

// slowCtx is for calls that may queue behind many others.
func slowCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return c
}

func (f *containerFixture) tryRunPod(c context.Context, cfg *runtimeapi.PodSandboxConfig) (string, error) {
	resp, err := f.b.Runtime().RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	return resp.GetPodSandboxId(), err
}

// runPod starts a pod named name; edit (if not nil) changes its config.
func (f *containerFixture) runPod(t *testing.T, name string, edit func(*runtimeapi.PodSandboxConfig)) testPod {
	t.Helper()
	cfg := podConfig(name, f.parent)
	if edit != nil {
		edit(cfg)
	}
	id, err := f.tryRunPod(slowCtx(t), cfg)
	if err != nil {
		t.Fatalf("RunPodSandbox %s: %v", name, err)
	}
	return f.describePod(t, id, cfg)
}

func (f *containerFixture) describePod(t *testing.T, id string, cfg *runtimeapi.PodSandboxConfig) testPod {
	t.Helper()
	st, info := podStatus(t, f.b, id)
	return testPod{id: id, cfg: cfg, pid: info.PID, ip: st.GetNetwork().GetIp()}
}

// containerConfig is a busybox container as kubelet sends it for a pod of
// podConfig (its own PID namespace).
func containerConfig(name string, cmd ...string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: busyboxImage},
		Command:  cmd,
		Labels:   map[string]string{"test": "container", "container": name},
		Linux: &runtimeapi.LinuxContainerConfig{
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER},
			},
		},
	}
}

func tryRunContainer(c context.Context, b *harness.Berth, p testPod, cfg *runtimeapi.ContainerConfig) (string, error) {
	resp, err := b.Runtime().CreateContainer(c, &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: cfg, SandboxConfig: p.cfg})
	if err != nil {
		return "", fmt.Errorf("CreateContainer %s: %w", cfg.GetMetadata().GetName(), err)
	}
	id := resp.GetContainerId()
	if _, err := b.Runtime().StartContainer(c, &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		return id, fmt.Errorf("StartContainer %s: %w", cfg.GetMetadata().GetName(), err)
	}
	return id, nil
}

// runContainer creates and starts a container in the pod.
func runContainer(t *testing.T, b *harness.Berth, p testPod, cfg *runtimeapi.ContainerConfig) string {
	t.Helper()
	id, err := tryRunContainer(ctx(t), b, p, cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Logs())
	}
	return id
}

type containerInfo struct {
	PID       int    `json:"pid"`
	ConmonPID int    `json:"conmonPid"`
	Bundle    string `json:"bundle"`
}

func containerStatus(t *testing.T, b *harness.Berth, id string) (*runtimeapi.ContainerStatus, containerInfo) {
	t.Helper()
	resp, err := b.Runtime().ContainerStatus(ctx(t), &runtimeapi.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatalf("ContainerStatus %s: %v", id, err)
	}
	var info containerInfo
	decodeInfo(t, resp.GetInfo(), &info)
	return resp.GetStatus(), info
}

// waitExited waits for the container to exit and returns its status.
func waitExited(t *testing.T, b *harness.Berth, id string) *runtimeapi.ContainerStatus {
	t.Helper()
	var st *runtimeapi.ContainerStatus
	waitFor(t, time.Minute, func() bool {
		st, _ = containerStatus(t, b, id)
		return st.GetState() == runtimeapi.ContainerState_CONTAINER_EXITED
	})
	return st
}

func listContainers(t *testing.T, b *harness.Berth, f *runtimeapi.ContainerFilter) []*runtimeapi.Container {
	t.Helper()
	resp, err := b.Runtime().ListContainers(ctx(t), &runtimeapi.ListContainersRequest{Filter: f})
	if err != nil {
		t.Fatalf("ListContainers %v: %v", f, err)
	}
	return resp.GetContainers()
}

func execSync(t *testing.T, b *harness.Berth, id string, cmd ...string) string {
	t.Helper()
	resp, err := b.Runtime().ExecSync(ctx(t), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: 20})
	if err != nil || resp.GetExitCode() != 0 {
		t.Fatalf("ExecSync %q: %v, exit %d, stderr %q", cmd, err, resp.GetExitCode(), resp.GetStderr())
	}
	return string(resp.GetStdout())
}

func stopContainer(t *testing.T, b *harness.Berth, id string, timeout int64) {
	t.Helper()
	if _, err := b.Runtime().StopContainer(ctx(t), &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: timeout}); err != nil {
		t.Fatalf("StopContainer %s: %v", id, err)
	}
}

func removeContainer(t *testing.T, b *harness.Berth, id string) {
	t.Helper()
	if _, err := b.Runtime().RemoveContainer(ctx(t), &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("RemoveContainer %s: %v", id, err)
	}
}

// forEach runs fn(0..n-1) on at most workers goroutines and returns the
// errors by index.
func forEach(n, workers int, fn func(i int) error) []error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

func firstError(t *testing.T, b *harness.Berth, what string, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s %d: %v\n%s", what, i, err, b.Logs())
		}
	}
}

// eventually polls cond for up to limit and reports whether it held.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// assertAllClean removes nothing; it checks that the pods and their
// containers have left nothing behind.
func (f *containerFixture) assertAllClean(t *testing.T, pods []testPod) {
	t.Helper()
	var pids []int
	var ids, ips []string
	for _, p := range pods {
		pids = append(pids, p.pid)
		ids = append(ids, p.id)
		ips = append(ips, p.ip)
	}
	assertClean(t, f.b, f.n, f.parent, pids, ids, ips)
	if left := listContainers(t, f.b, nil); len(left) != 0 {
		t.Fatalf("want no containers listed, got %v", left)
	}
	var left []string
	if !eventually(10*time.Second, func() bool {
		left = f.b.ContainerLeftovers(f.parent)
		return len(left) == 0
	}) {
		t.Fatalf("containers left behind:\n  %s\n%s", strings.Join(left, "\n  "), f.b.Logs())
	}
}

// removeAll removes the containers, then their pod, and checks that
// nothing of any is left.
func (f *containerFixture) removeAll(t *testing.T, p testPod, containers ...string) {
	t.Helper()
	for _, id := range containers {
		removeContainer(t, f.b, id)
	}
	removePod(t, f.b, p.id)
	f.assertAllClean(t, []testPod{p})
}

func openFDCount(t *testing.T, b *harness.Berth) int {
	t.Helper()
	fds, err := b.OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// mountsUnder lists the mount points below dir.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			out = append(out, fields[4])
		}
	}
	return out
}

func TestFiftyPodsTwoContainersEach(t *testing.T) {
	f := newContainerFixture(t, "berth-it-c50", "berthitc50", "10.124.0.0/24")
	b := f.b
	fdsBefore := openFDCount(t, b)
	const pods, workers = 50, 8

	podIDs := make([]string, pods)
	cfgs := make([]*runtimeapi.PodSandboxConfig, pods)
	firstError(t, b, "pod", forEach(pods, workers, func(i int) error {
		cfgs[i] = podConfig(fmt.Sprintf("pod%d", i), f.parent)
		var err error
		podIDs[i], err = f.tryRunPod(slowCtx(t), cfgs[i])
		return err
	}))
	all := make([]testPod, pods)
	for i := range pods {
		all[i] = f.describePod(t, podIDs[i], cfgs[i])
	}

	ctrs := make([]string, 2*pods) // pod i has ctrs[2i] and ctrs[2i+1]
	firstError(t, b, "container", forEach(2*pods, workers, func(i int) error {
		var err error
		ctrs[i], err = tryRunContainer(slowCtx(t), b, all[i/2], containerConfig(fmt.Sprintf("c%d", i%2), "sleep", "3600"))
		return err
	}))

	for i, p := range all {
		got := listContainers(t, b, &runtimeapi.ContainerFilter{PodSandboxId: p.id})
		if len(got) != 2 {
			t.Fatalf("pod%d: want 2 containers, got %d", i, len(got))
		}
		for _, c := range got {
			if c.GetPodSandboxId() != p.id || (c.GetId() != ctrs[2*i] && c.GetId() != ctrs[2*i+1]) {
				t.Fatalf("pod%d lists a container not its own: %v", i, c)
			}
		}
	}
	running := listContainers(t, b, &runtimeapi.ContainerFilter{State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}})
	if len(running) != 2*pods {
		t.Fatalf("want %d running containers, got %d", 2*pods, len(running))
	}
	if conmons := b.Conmons(); len(conmons) != 2*pods {
		t.Fatalf("want %d conmons, got %d", 2*pods, len(conmons))
	}

	firstError(t, b, "stop", forEach(2*pods, workers, func(i int) error {
		_, err := b.Runtime().StopContainer(slowCtx(t), &runtimeapi.StopContainerRequest{ContainerId: ctrs[i], Timeout: int64(2 * (i % 2))})
		return err
	}))
	exited := listContainers(t, b, &runtimeapi.ContainerFilter{State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_EXITED}})
	if len(exited) != 2*pods {
		t.Fatalf("want %d exited containers, got %d", 2*pods, len(exited))
	}
	firstError(t, b, "remove container", forEach(2*pods, workers, func(i int) error {
		_, err := b.Runtime().RemoveContainer(slowCtx(t), &runtimeapi.RemoveContainerRequest{ContainerId: ctrs[i]})
		return err
	}))
	firstError(t, b, "remove pod", forEach(pods, workers, func(i int) error {
		c := slowCtx(t)
		if _, err := b.Runtime().StopPodSandbox(c, &runtimeapi.StopPodSandboxRequest{PodSandboxId: podIDs[i]}); err != nil {
			return err
		}
		_, err := b.Runtime().RemovePodSandbox(c, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: podIDs[i]})
		return err
	}))
	f.assertAllClean(t, all)

	var fds []string
	if !eventually(10*time.Second, func() bool {
		fds, _ = b.OpenFDs()
		return len(fds) <= fdsBefore+5
	}) {
		t.Fatalf("berth had %d open fds before the pods, %d after they are all gone:\n  %s", fdsBefore, len(fds), strings.Join(fds, "\n  "))
	}
	t.Logf("berth's open fds: %d before the pods, %d after", fdsBefore, len(fds))
}

func TestContainerThatExitsAtOnce(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cexit", "berthitcexit", "10.124.1.0/24")
	b := f.b
	p := f.runPod(t, "exits", nil)
	for _, c := range []struct {
		name   string
		cmd    []string
		code   int32
		reason string
	}{
		{"fails", []string{"sh", "-c", "exit 3"}, 3, "Error"},
		{"succeeds", []string{"true"}, 0, "Completed"},
	} {
		id := runContainer(t, b, p, containerConfig(c.name, c.cmd...))
		st := waitExited(t, b, id)
		if st.GetExitCode() != c.code || st.GetReason() != c.reason {
			t.Errorf("%s: exit code %d reason %q, want %d %q", c.name, st.GetExitCode(), st.GetReason(), c.code, c.reason)
		}
		// The exit file's time is coarse: berth must still never report a
		// container that finished before it started.
		if st.GetCreatedAt() <= 0 || st.GetStartedAt() < st.GetCreatedAt() || st.GetFinishedAt() < st.GetStartedAt() {
			t.Errorf("%s: created %d, started %d, finished %d: want 0 < created <= started <= finished",
				c.name, st.GetCreatedAt(), st.GetStartedAt(), st.GetFinishedAt())
		}
		removeContainer(t, b, id)
	}
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

func TestNumericUserWithoutPasswd(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cuser", "berthitcuser", "10.124.2.0/24")
	b := f.b
	pullImage(t, b, pauseImage)
	p := f.runPod(t, "numeric", nil)

	// The pause image has no /etc/passwd: a numeric user needs none.
	cfg := containerConfig("pause")
	cfg.Image.Image = pauseImage
	cfg.Linux.SecurityContext.RunAsUser = &runtimeapi.Int64Value{Value: 1234}
	pause := runContainer(t, b, p, cfg)
	st, info := containerStatus(t, b, pause)
	if st.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING || st.GetUser().GetLinux().GetUid() != 1234 {
		t.Fatalf("pause as 1234: state %v, user %v", st.GetState(), st.GetUser())
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", info.PID))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) == 5 && fields[0] == "Uid:" && (fields[1] != "1234" || fields[2] != "1234") {
			t.Fatalf("the container's process runs as %q, want uid 1234", line)
		}
	}
	if out := execSync(t, b, pause, "/pause", "-v"); !strings.Contains(out, "pause") {
		t.Fatalf("/pause -v said %q", out)
	}

	// busybox has a passwd without 1234.
	cfg = containerConfig("busybox", "sleep", "3600")
	cfg.Linux.SecurityContext.RunAsUser = &runtimeapi.Int64Value{Value: 1234}
	bb := runContainer(t, b, p, cfg)
	if out := strings.TrimSpace(execSync(t, b, bb, "id", "-u")); out != "1234" {
		t.Fatalf("id -u in busybox run as 1234: %q", out)
	}
	if st, _ := containerStatus(t, b, bb); st.GetUser().GetLinux().GetUid() != 1234 {
		t.Fatalf("busybox as 1234: user %v", st.GetUser())
	}
	removePod(t, b, p.id) // removes its containers too
	f.assertAllClean(t, []testPod{p})
}

func TestLogLineLongerThanPipeBuffer(t *testing.T) {
	f := newContainerFixture(t, "berth-it-clog", "berthitclog", "10.124.3.0/24")
	b := f.b
	logDir := t.TempDir()
	p := f.runPod(t, "logs", func(c *runtimeapi.PodSandboxConfig) { c.LogDirectory = logDir })
	const size = 200000
	cfg := containerConfig("long", "sh", "-c", fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x; echo", size))
	cfg.LogPath = "c.log"
	id := runContainer(t, b, p, cfg)
	st := waitExited(t, b, id)
	if st.GetExitCode() != 0 || st.GetLogPath() != filepath.Join(logDir, "c.log") {
		t.Fatalf("exit code %d, log path %q", st.GetExitCode(), st.GetLogPath())
	}
	data, err := os.ReadFile(filepath.Join(logDir, "c.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var text strings.Builder
	for i, line := range lines {
		parts := strings.SplitN(line, " ", 4)
		if len(parts) != 4 {
			t.Fatalf("line %d is not <time> <stream> <tag> <text>: %.100q", i, line)
		}
		if _, err := time.Parse(time.RFC3339Nano, parts[0]); err != nil {
			t.Errorf("line %d: timestamp %q: %v", i, parts[0], err)
		}
		want := "P"
		if i == len(lines)-1 {
			want = "F"
		}
		if parts[1] != "stdout" || parts[2] != want {
			t.Errorf("line %d of %d: stream %q tag %q, want stdout %s", i, len(lines), parts[1], parts[2], want)
		}
		text.WriteString(parts[3])
	}
	if got := text.String(); got != strings.Repeat("x", size) {
		t.Errorf("the log's text is %d bytes (%d x's), want %d x's", len(got), strings.Count(got, "x"), size)
	}
	t.Logf("a %d-byte line took %d log lines", size, len(lines))
	if len(lines) < 2 {
		t.Errorf("a %d-byte line came in %d log line(s); conmon splits long lines", size, len(lines))
	}
	removeContainer(t, b, id)
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

func TestHostPathSymlinkToDirectory(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cmnt", "berthitcmnt", "10.124.4.0/24")
	b := f.b
	p := f.runPod(t, "mounts", nil)

	// A missing host path is the caller's error, and leaves nothing.
	bad := containerConfig("missing", "sleep", "3600")
	bad.Mounts = []*runtimeapi.Mount{{ContainerPath: "/mnt", HostPath: filepath.Join(t.TempDir(), "missing")}}
	_, err := b.Runtime().CreateContainer(ctx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: bad, SandboxConfig: p.cfg})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("missing host path: want InvalidArgument, got %v", err)
	}
	if got := listContainers(t, b, nil); len(got) != 0 {
		t.Fatalf("a failed create is listed: %v", got)
	}
	var left []string
	if !eventually(10*time.Second, func() bool { left = b.ContainerLeftovers(""); return len(left) == 0 }) {
		t.Fatalf("a failed create left:\n  %s", strings.Join(left, "\n  "))
	}
	if m := mountsUnder(t, filepath.Join(b.Dir, "run", "containers")); len(m) != 0 {
		t.Fatalf("a failed create left mounts: %v", m)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "flag"), []byte("through the link\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	cfg := containerConfig("linked", "sleep", "3600")
	cfg.Mounts = []*runtimeapi.Mount{{ContainerPath: "/mnt", HostPath: link}}
	id := runContainer(t, b, p, cfg)
	if out := execSync(t, b, id, "cat", "/mnt/flag"); out != "through the link\n" {
		t.Fatalf("cat /mnt/flag: %q", out)
	}
	if out := execSync(t, b, id, "ls", "/mnt"); strings.TrimSpace(out) != "flag" {
		t.Fatalf("ls /mnt: %q; want the directory's content", out)
	}
	stopContainer(t, b, id, 0)
	removeContainer(t, b, id)
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

func TestContainersSurviveBerthKill(t *testing.T) {
	f := newContainerFixture(t, "berth-it-ckill", "berthitckill", "10.124.5.0/24")
	b := f.b
	p := f.runPod(t, "survivors", nil)
	ids := []string{
		runContainer(t, b, p, containerConfig("first", "sleep", "3600")),
		runContainer(t, b, p, containerConfig("second", "sleep", "3600")),
	}
	pids := make([]int, len(ids))
	starts := make([]uint64, len(ids))
	for i, id := range ids {
		_, info := containerStatus(t, b, id)
		pids[i], starts[i] = info.PID, mustStart(t, info.PID)
	}

	b.Kill()
	b.Restart(t)
	running := listContainers(t, b, &runtimeapi.ContainerFilter{State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}})
	if len(running) != 2 || !((running[0].GetId() == ids[0] && running[1].GetId() == ids[1]) || (running[0].GetId() == ids[1] && running[1].GetId() == ids[0])) {
		t.Fatalf("after the restart want %v running, got %v", ids, running)
	}
	for i, id := range ids {
		st, info := containerStatus(t, b, id)
		if st.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING || info.PID != pids[i] || !proc.Alive(pids[i], starts[i]) {
			t.Fatalf("container %d after the restart: state %v, pid %d (was %d, alive %v)", i, st.GetState(), info.PID, pids[i], proc.Alive(pids[i], starts[i]))
		}
		if out := execSync(t, b, id, "echo", "still here"); out != "still here\n" {
			t.Fatalf("exec after the restart: %q", out)
		}
	}
	stopContainer(t, b, ids[0], 0)
	if st, _ := containerStatus(t, b, ids[0]); st.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || st.GetExitCode() != 137 {
		t.Fatalf("stopped after the restart: state %v, exit code %d; want EXITED 137", st.GetState(), st.GetExitCode())
	}
	for _, id := range ids {
		removeContainer(t, b, id)
	}
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// zombieChildren lists the zombie processes named comm whose parent is ppid.
func zombieChildren(ppid int, comm string) []int {
	var out []int
	matches, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil || strings.TrimSpace(string(data)) != comm {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(m)))
		if st, err := proc.ReadStat(pid); err == nil && st.State == 'Z' && st.PPID == ppid {
			out = append(out, pid)
		}
	}
	return out
}

func TestExecSyncTimeoutKillsTheCommand(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cexec", "berthitcexec", "10.124.6.0/24")
	b := f.b
	p := f.runPod(t, "exec", nil)
	id := runContainer(t, b, p, containerConfig("sleeper", "sleep", "3600"))
	_, info := containerStatus(t, b, id)

	sleep := uniqueSleep()
	_, err := b.Runtime().ExecSync(ctx(t), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: strings.Fields(sleep), Timeout: 1})
	// berth's own timeout, not the client's deadline, ended the call.
	if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(status.Convert(err).Message(), "timed out after 1s") {
		t.Fatalf("ExecSync past its timeout: want berth's DeadlineExceeded (timed out after 1s), got %v", err)
	}
	if out := execSync(t, b, id, "sh", "-c", "ps -o pid,args | grep -v grep | grep '"+sleep+"' || true"); out != "" {
		t.Fatalf("the timed-out command still runs in the container:\n%s", out)
	}
	if pids := pgrepFull(sleep); len(pids) > 0 {
		t.Fatalf("the timed-out command still runs on the host: %v", pids)
	}
	// The container's init (sleep 3600) reaps nothing: an orphaned command
	// would stay a zombie under it.
	if z := zombieChildren(info.PID, "sleep"); len(z) > 0 {
		t.Fatalf("zombies %v left under the container's init %d", z, info.PID)
	}
	// The container itself is unharmed.
	if st, _ := containerStatus(t, b, id); st.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("container %v after the exec timeout", st.GetState())
	}
	removeContainer(t, b, id)
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

func TestDuplicateAndRetriedCreate(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cdup", "berthitcdup", "10.124.7.0/24")
	b := f.b
	p := f.runPod(t, "dup", nil)
	cfg := containerConfig("twice", "sleep", "3600")
	create := func() string {
		t.Helper()
		resp, err := b.Runtime().CreateContainer(ctx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: cfg, SandboxConfig: p.cfg})
		if err != nil {
			t.Fatalf("CreateContainer: %v", err)
		}
		return resp.GetContainerId()
	}
	first := create()
	if again := create(); again != first {
		t.Fatalf("retried create got %q, want the first call's %q", again, first)
	}
	if got := listContainers(t, b, nil); len(got) != 1 || got[0].GetId() != first {
		t.Fatalf("want exactly container %s listed, got %v", first, got)
	}
	for _, d := range []string{"run/containers", "root/containers"} {
		if entries, _ := os.ReadDir(filepath.Join(b.Dir, d)); len(entries) != 1 || entries[0].Name() != first {
			t.Errorf("one container, but %s holds %v", d, entries)
		}
	}

	img := &runtimeapi.ImageSpec{Image: busyboxImage}
	_, err := b.Image().RemoveImage(ctx(t), &runtimeapi.RemoveImageRequest{Image: img})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("removing an image in use: want FailedPrecondition, got %v", err)
	}
	if imageStatus(t, b, busyboxImage) == nil {
		t.Fatal("the image in use was removed")
	}
	list, err := b.Image().ListImages(ctx(t), &runtimeapi.ListImagesRequest{})
	if err != nil || len(list.GetImages()) != 1 {
		t.Fatalf("want the image listed, got %v, %v", list.GetImages(), err)
	}

	removeContainer(t, b, first)
	if _, err := b.Image().RemoveImage(ctx(t), &runtimeapi.RemoveImageRequest{Image: img}); err != nil {
		t.Fatalf("removing the image no container uses: %v", err)
	}
	if imageStatus(t, b, busyboxImage) != nil {
		t.Fatal("image still there after its removal")
	}
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

func TestStopContainerIdempotentAndWhenProcessGone(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cstop", "berthitcstop", "10.124.8.0/24")
	b := f.b
	p := f.runPod(t, "stops", nil)

	// sleep as PID 1 ignores SIGTERM: the stop ends with SIGKILL.
	twice := runContainer(t, b, p, containerConfig("twice", "sleep", "3600"))
	stopContainer(t, b, twice, 1)
	stopContainer(t, b, twice, 1)
	if st, _ := containerStatus(t, b, twice); st.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || st.GetExitCode() != 137 || st.GetReason() != "Error" {
		t.Fatalf("stopped twice: state %v, exit code %d, reason %q; want EXITED 137 Error", st.GetState(), st.GetExitCode(), st.GetReason())
	}

	killed := runContainer(t, b, p, containerConfig("killed", "sleep", "3600"))
	_, info := containerStatus(t, b, killed)
	if err := syscall.Kill(info.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	stopContainer(t, b, killed, 10)
	if st, _ := containerStatus(t, b, killed); st.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || st.GetExitCode() != 137 {
		t.Fatalf("killed from the host: state %v, exit code %d; want EXITED 137", st.GetState(), st.GetExitCode())
	}

	const unknown = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	stopContainer(t, b, unknown, 0)
	removeContainer(t, b, unknown)
	if _, err := b.Runtime().ContainerStatus(ctx(t), &runtimeapi.ContainerStatusRequest{ContainerId: unknown}); status.Code(err) != codes.NotFound {
		t.Fatalf("status of an unknown container: want NotFound, got %v", err)
	}

	for _, id := range []string{twice, killed} {
		removeContainer(t, b, id)
	}
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// TestStartTimeKeptWhenStatusSeesTheExitFirst polls ContainerStatus while
// short-lived containers start, as kubelet does: a status call that sees the
// exit before StartContainer returns must not lose the start time.
func TestStartTimeKeptWhenStatusSeesTheExitFirst(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cpoll", "berthitcpoll", "10.124.9.0/24")
	b := f.b
	p := f.runPod(t, "polled", nil)
	for i := range 10 {
		cfg := containerConfig(fmt.Sprintf("quick%d", i), "true")
		c, err := b.Runtime().CreateContainer(ctx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: cfg, SandboxConfig: p.cfg})
		if err != nil {
			t.Fatal(err)
		}
		id := c.GetContainerId()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						b.Runtime().ContainerStatus(ctx(t), &runtimeapi.ContainerStatusRequest{ContainerId: id})
					}
				}
			}()
		}
		_, err = b.Runtime().StartContainer(ctx(t), &runtimeapi.StartContainerRequest{ContainerId: id})
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		st := waitExited(t, b, id)
		if st.GetStartedAt() == 0 || st.GetFinishedAt() < st.GetStartedAt() {
			t.Fatalf("quick%d: started %d, finished %d", i, st.GetStartedAt(), st.GetFinishedAt())
		}
		removeContainer(t, b, id)
	}
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// TestContainerStatsFromCgroup checks ContainerStats and ListContainerStats
// report what the container's cgroup counts.
func TestContainerStatsFromCgroup(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cstats", "berthitcstats", "10.124.11.0/24")
	b := f.b
	p := f.runPod(t, "stats", nil)
	// Burn some CPU and keep 8 MiB in memory, then idle.
	id := runContainer(t, b, p, containerConfig("busy", "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; head -c 8388608 /dev/zero > /dev/shm/fill; sleep 3600"))
	var st *runtimeapi.ContainerStats
	waitFor(t, 30*time.Second, func() bool {
		resp, err := b.Runtime().ContainerStats(ctx(t), &runtimeapi.ContainerStatsRequest{ContainerId: id})
		if err != nil {
			t.Fatal(err)
		}
		st = resp.GetStats()
		return st.GetCpu().GetUsageCoreNanoSeconds().GetValue() > 0 && st.GetMemory().GetWorkingSetBytes().GetValue() >= 8<<20
	})
	if st.GetAttributes().GetId() != id || st.GetCpu().GetTimestamp() == 0 {
		t.Fatalf("stats %+v", st)
	}
	list, err := b.Runtime().ListContainerStats(ctx(t), &runtimeapi.ListContainerStatsRequest{
		Filter: &runtimeapi.ContainerStatsFilter{PodSandboxId: p.id, LabelSelector: map[string]string{"container": "busy"}},
	})
	if err != nil || len(list.GetStats()) != 1 || list.GetStats()[0].GetAttributes().GetId() != id {
		t.Fatalf("ListContainerStats by pod and label: %v, %v", list.GetStats(), err)
	}
	removeContainer(t, b, id)
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// A pod that shares its PID namespace gets an init berth starts itself,
// which its containers see as PID 1 and which shows them nothing of the
// host; when it dies the pod is NotReady at once (kubelet then makes a new
// one), a container is never created in it, and its containers join the
// pod's pinned namespaces, not /proc/<init pid>, whose pid may be another
// process's by then.
func TestPodInitDeathMakesPodNotReady(t *testing.T) {
	f := newContainerFixture(t, "berth-it-pause", "berthitpause", "10.124.12.0/24")
	p := f.runPod(t, "pausedeath", sharePID)
	_, podInfo := podStatus(t, f.b, p.id)
	checkPodHolder(t, "pausedeath", podInfo, true)
	cfg := containerConfig("app", "sleep", "3600")
	cfg.Linux.SecurityContext.NamespaceOptions.Pid = runtimeapi.NamespaceMode_POD
	// The init's user and group: the ones that may look through
	// /proc/1/root.
	cfg.Linux.SecurityContext.RunAsUser = &runtimeapi.Int64Value{Value: 65535}
	cfg.Linux.SecurityContext.RunAsGroup = &runtimeapi.Int64Value{Value: 65535}
	cid := runContainer(t, f.b, p, cfg)
	_, info := containerStatus(t, f.b, cid)
	for _, kind := range []string{"ipc", "uts", "pid"} {
		pod, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", p.pid, kind))
		ctr, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", info.PID, kind))
		if pod == "" || pod != ctr {
			t.Errorf("container %s namespace %q, the pod init's %q", kind, ctr, pod)
		}
	}
	if out := execSync(t, f.b, cid, "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "/pause") {
		t.Errorf("PID 1 in the pod is %q, want /pause", out)
	}
	// ".." from the init's root stays in its own mount tree: the host's
	// was pivoted away, not merely chrooted out of sight.
	if out := execSync(t, f.b, cid, "ls", "/proc/1/root/.."); strings.Join(strings.Fields(out), " ") != "dev pause proc sys" {
		t.Errorf("/proc/1/root/.. from a container of the pod lists %q; want only the pause rootfs", out)
	}
	spec, err := os.ReadFile(filepath.Join(info.Bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(spec), fmt.Sprintf("/proc/%d/ns", p.pid)) {
		t.Errorf("container spec joins the pod init through /proc/%d", p.pid)
	}

	start := mustStart(t, p.pid)
	if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !eventually(2*time.Second, func() bool { return !proc.Alive(p.pid, start) }) {
		t.Fatalf("pod init %d survived SIGKILL", p.pid)
	}
	notReady := func() bool {
		st, _ := podStatus(t, f.b, p.id)
		return st.GetState() == runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	}
	if !eventually(time.Second, notReady) {
		t.Errorf("status after the pod init died: not NOTREADY")
	}
	list, err := f.b.Runtime().ListPodSandbox(ctx(t), &runtimeapi.ListPodSandboxRequest{})
	if err != nil || len(list.GetItems()) != 1 || list.GetItems()[0].GetState() != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
		t.Errorf("list after the pod init died: %v, %v; want one NOTREADY pod", list.GetItems(), err)
	}
	_, err = f.b.Runtime().CreateContainer(ctx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: containerConfig("late", "true"), SandboxConfig: p.cfg})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("CreateContainer in a pod whose init died: %v, want FailedPrecondition", err)
	}
	removePod(t, f.b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// A pod whose containers do not share a PID namespace has no process of
// its own: its containers join the IPC and UTS namespaces berth pinned,
// with the pod's hostname, and the pod's sysctls are set in them.
func TestPodWithoutProcessHoldsItsNamespaces(t *testing.T) {
	f := newContainerFixture(t, "berth-it-pinned", "berthitpinned", "10.124.36.0/24")
	p := f.runPod(t, "pinned", func(cfg *runtimeapi.PodSandboxConfig) {
		cfg.Linux.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "81", "kernel.shmmni": "2048"}
	})
	_, podInfo := podStatus(t, f.b, p.id)
	checkPodHolder(t, "pinned", podInfo, false)
	a := runContainer(t, f.b, p, containerConfig("a", "sleep", "3600"))
	b := runContainer(t, f.b, p, containerConfig("b", "sleep", "3600"))
	for _, id := range []string{a, b} {
		_, info := containerStatus(t, f.b, id)
		for kind, pin := range map[string]string{"net": podInfo.NetNS, "ipc": podInfo.Namespaces["ipc"], "uts": podInfo.Namespaces["uts"]} {
			if !sameNamespace(fmt.Sprintf("/proc/%d/ns/%s", info.PID, kind), pin) {
				t.Errorf("container %s is not in the pod's %s namespace", id, kind)
			}
		}
		if out := strings.TrimSpace(execSync(t, f.b, id, "hostname")); out != "pinned" {
			t.Errorf("hostname in container %s: %q", id, out)
		}
		if out := strings.TrimSpace(execSync(t, f.b, id, "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/kernel/shmmni")); strings.Join(strings.Fields(out), " ") != "81 2048" {
			t.Errorf("pod sysctls in container %s: %q, want 81 and 2048", id, out)
		}
	}
	// Each container has a PID namespace of its own, with itself as PID 1.
	if out := execSync(t, f.b, a, "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "sleep") {
		t.Errorf("PID 1 of container a is %q", out)
	}
	// The host's own values were not touched.
	if data, _ := os.ReadFile("/proc/sys/kernel/shmmni"); strings.TrimSpace(string(data)) == "2048" {
		t.Error("the pod's kernel.shmmni reached the host")
	}
	// A container that asks for the pod's PID namespace, which it has not.
	cfg := containerConfig("podpid", "true")
	cfg.Linux.SecurityContext.NamespaceOptions.Pid = runtimeapi.NamespaceMode_POD
	_, err := f.b.Runtime().CreateContainer(ctx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: cfg, SandboxConfig: p.cfg})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "PID namespace") {
		t.Errorf("CreateContainer asking for a PID namespace the pod does not share: %v; want FailedPrecondition naming it", err)
	}
	removePod(t, f.b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// Environment variables whose names are not shell identifiers (kubelet's
// envFrom of a ConfigMap key "data-1") reach the container's processes.
// The node e2e specs that check this read them back through busybox's sh,
// which drops them, so berth's part is proved here.
func TestEnvNamesThatAreNotIdentifiers(t *testing.T) {
	f := newContainerFixture(t, "berth-it-env", "berthitenv", "10.124.13.0/24")
	p := f.runPod(t, "env", nil)
	cfg := containerConfig("app", "sleep", "3600")
	cfg.Envs = []*runtimeapi.KeyValue{{Key: "data-1", Value: []byte("value-1")}, {Key: "p_data.2", Value: []byte("value 2")}, {Key: "PLAIN", Value: []byte("x")}}
	id := runContainer(t, f.b, p, cfg)
	// busybox's env applet, run directly: it prints its environment as is.
	out := execSync(t, f.b, id, "env")
	for _, want := range []string{"\ndata-1=value-1\n", "\np_data.2=value 2\n", "\nPLAIN=x\n"} {
		if !strings.Contains("\n"+out, want) {
			t.Errorf("container environment lacks %q:\n%s", strings.TrimSpace(want), out)
		}
	}
	removePod(t, f.b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// TestCDIDevice: a container given a CDI device gets what the vendor's
// spec says (a device node, a mount, env vars); a device no spec defines
// is InvalidArgument and leaves no container behind.
func TestCDIDevice(t *testing.T) {
	cdiDir, shared := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(shared, "model"), []byte("berth-gpu-9000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := `{"cdiVersion": "0.6.0", "kind": "berth.test/gpu",
  "containerEdits": {"env": ["BERTH_GPU_VENDOR=berth"]},
  "devices": [{"name": "gpu0", "containerEdits": {
    "env": ["BERTH_GPU=gpu0"],
    "deviceNodes": [{"path": "/dev/berth-gpu0", "hostPath": "/dev/zero"}],
    "mounts": [{"hostPath": "` + shared + `", "containerPath": "/run/berth-gpu", "options": ["ro", "bind"]}]}}]}`
	if err := os.WriteFile(filepath.Join(cdiDir, "berth-test.json"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newContainerFixtureWith(t, "berth-it-cdi", "berthitcdi", "10.124.37.0/24", fmt.Sprintf("[cdi]\nspec_dirs = [%q]\n", cdiDir))
	p := f.runPod(t, "cdi", nil)
	cfg := containerConfig("gpu", "sleep", "3600")
	cfg.CDIDevices = []*runtimeapi.CDIDevice{{Name: "berth.test/gpu=gpu0"}}
	id := runContainer(t, f.b, p, cfg)
	out := execSync(t, f.b, id, "sh", "-c", `test -c /dev/berth-gpu0 && head -c 4 /dev/berth-gpu0 | od -An -tx1; cat /run/berth-gpu/model; echo "$BERTH_GPU $BERTH_GPU_VENDOR"`)
	for _, want := range []string{"00 00 00 00", "berth-gpu-9000", "gpu0 berth"} {
		if !strings.Contains(out, want) {
			t.Errorf("the container's view of its CDI device lacks %q:\n%s", want, out)
		}
	}

	bad := containerConfig("nogpu", "sleep", "3600")
	bad.CDIDevices = []*runtimeapi.CDIDevice{{Name: "berth.test/gpu=gpu7"}}
	_, err := tryRunContainer(ctx(t), f.b, p, bad)
	if status.Code(errors.Unwrap(err)) != codes.InvalidArgument || !strings.Contains(err.Error(), "berth.test/gpu=gpu7") {
		t.Fatalf("an unknown CDI device: %v; want InvalidArgument naming it", err)
	}
	if n := len(listContainers(t, f.b, &runtimeapi.ContainerFilter{PodSandboxId: p.id})); n != 1 {
		t.Fatalf("%d containers after the refused create, want only the first", n)
	}
	removePod(t, f.b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// TestOCIHooks: a hooks.d hook whose "when" matches an annotation is run
// by the runtime at each of its stages, for that container only.
func TestOCIHooks(t *testing.T) {
	hooksDir, work := t.TempDir(), t.TempDir()
	calls := filepath.Join(work, "calls")
	recorder := filepath.Join(work, "record-hook")
	// The runtime gives a hook the container's state on stdin.
	script := "#!/bin/sh\nread -r state\necho \"$1 $state\" >> " + calls + "\n"
	if err := os.WriteFile(recorder, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for stage, file := range map[string]string{"prestart": "10-pre.json", "poststart": "20-post.json", "poststop": "30-stop.json"} {
		hook := fmt.Sprintf(`{"version": "1.0.0", "hook": {"path": %q, "args": ["record-hook", %q]}, "when": {"annotations": {"^berth\\.test/record$": "^yes$"}}, "stages": [%q]}`, recorder, stage, stage)
		if err := os.WriteFile(filepath.Join(hooksDir, file), []byte(hook), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := newContainerFixtureWith(t, "berth-it-hooks", "berthithooks", "10.124.38.0/24", fmt.Sprintf("[hooks]\ndirs = [%q]\n", hooksDir))
	p := f.runPod(t, "hooks", nil)
	recorded := containerConfig("recorded", "sleep", "3600")
	recorded.Annotations = map[string]string{"berth.test/record": "yes"}
	id := runContainer(t, f.b, p, recorded)
	other := runContainer(t, f.b, p, containerConfig("other", "sleep", "3600"))
	stopContainer(t, f.b, id, 0)
	removeContainer(t, f.b, id)

	data, _ := os.ReadFile(calls)
	for _, stage := range []string{"prestart", "poststart", "poststop"} {
		if !slices.ContainsFunc(strings.Split(string(data), "\n"), func(l string) bool {
			return strings.HasPrefix(l, stage+" ") && strings.Contains(l, `"id":"`+id+`"`)
		}) {
			t.Errorf("no %s call for %s recorded:\n%s", stage, id, data)
		}
	}
	if strings.Contains(string(data), other) {
		t.Errorf("the hook ran for a container without the annotation:\n%s", data)
	}
	removePod(t, f.b, p.id)
	f.assertAllClean(t, []testPod{p})
}
