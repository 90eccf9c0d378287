//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/test/harness"
)

// podConfig is a pod as kubelet sends it, under a test's cgroup parent.
func podConfig(name, cgroupParent string) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "it", Uid: "uid-" + name},
		Hostname: name,
		Labels:   map[string]string{"test": "sandbox", "pod": name},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent: cgroupParent,
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER},
			},
		},
	}
}

// cgroupParent returns a cgroup parent of the test's own, removed at the end.
func cgroupParent(t *testing.T) string {
	parent := fmt.Sprintf("/berth-it-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		for _, d := range harness.CgroupDirs(parent) {
			os.Remove(d)
		}
	})
	return parent
}

type podInfo struct {
	PID   int    `json:"pid"` // the pod's init; 0 for a pod without one
	NetNS string `json:"netns"`
	// Namespaces are the pins of the pod's other namespaces, by kind.
	Namespaces map[string]string `json:"namespaces"`
}

func podStatus(t *testing.T, b *harness.Berth, id string) (*runtimeapi.PodSandboxStatus, podInfo) {
	t.Helper()
	resp, err := b.Runtime().PodSandboxStatus(ctx(t), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id, Verbose: true})
	if err != nil {
		t.Fatalf("PodSandboxStatus %s: %v", id, err)
	}
	var info podInfo
	decodeInfo(t, resp.GetInfo(), &info)
	return resp.GetStatus(), info
}

// decodeInfo decodes the JSON a verbose status carries under "info".
func decodeInfo(t *testing.T, info map[string]string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(info["info"]), v); err != nil {
		t.Fatalf("verbose info %q: %v", info["info"], err)
	}
}

func removePod(t *testing.T, b *harness.Berth, id string) {
	t.Helper()
	if _, err := b.Runtime().StopPodSandbox(ctx(t), &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if _, err := b.Runtime().RemovePodSandbox(ctx(t), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
}

func assertClean(t *testing.T, b *harness.Berth, n *harness.Network, parent string, pids []int, ids, ips []string) {
	t.Helper()
	if left := b.Leftovers(n, parent, pids, ids, ips); len(left) > 0 {
		t.Fatalf("left behind:\n  %s\n%s", strings.Join(left, "\n  "), b.Logs())
	}
	resp, err := b.Runtime().ListPodSandbox(ctx(t), &runtimeapi.ListPodSandboxRequest{})
	if err != nil || len(resp.GetItems()) != 0 {
		t.Fatalf("want no sandboxes listed, got %v, %v", resp.GetItems(), err)
	}
}

func TestTwentyPodsNetworkedAndCleanedUp(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-20", "berthit20", "10.123.0.0/24")
	waiting, open := n.Gate(t)
	b := harness.Start(t, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m")})
	parent := cgroupParent(t)

	const pods = 20
	ids := make([]string, pods)
	errs := make([]error, pods)
	var wg sync.WaitGroup
	for i := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cfg := podConfig(fmt.Sprintf("pod%d", i), parent)
			if i%2 == 1 {
				sharePID(cfg) // half the pods need an init
			}
			resp, err := b.Runtime().RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: cfg})
			ids[i], errs[i] = resp.GetPodSandboxId(), err
		}()
	}
	// Every pod is now in CNI ADD, held at the gate: berth must still
	// answer at once, since no lock is held across CNI.
	waitFor(t, time.Minute, func() bool {
		entries, _ := os.ReadDir(waiting)
		return len(entries) == pods
	})
	quick, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.Runtime().ListPodSandbox(quick, &runtimeapi.ListPodSandboxRequest{}); err != nil {
		t.Fatalf("ListPodSandbox while pods are in CNI: %v", err)
	}
	if _, err := b.Runtime().Status(quick, &runtimeapi.StatusRequest{}); err != nil {
		t.Fatalf("Status while pods are in CNI: %v", err)
	}
	open()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pod%d: %v", i, err)
		}
	}

	var pids []int
	var ips []string
	netnss := make([]string, pods)
	seen := map[string]bool{}
	for i, id := range ids {
		st, info := podStatus(t, b, id)
		ip := st.GetNetwork().GetIp()
		if st.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY || ip == "" || seen[ip] {
			t.Fatalf("pod%d: state %v, ip %q (seen before: %v)", i, st.GetState(), ip, seen[ip])
		}
		checkPodHolder(t, fmt.Sprintf("pod%d", i), info, i%2 == 1)
		seen[ip] = true
		ips = append(ips, ip)
		if info.PID > 0 {
			pids = append(pids, info.PID)
		}
		netnss[i] = info.NetNS
	}
	for i := range pods {
		if err := harness.Ping("", ips[i]); err != nil {
			t.Errorf("host → pod%d: %v", i, err)
		}
		next := (i + 1) % pods
		if err := harness.Ping(netnss[i], ips[next]); err != nil {
			t.Errorf("pod%d → pod%d: %v", i, next, err)
		}
	}
	list, err := b.Runtime().ListPodSandbox(ctx(t), &runtimeapi.ListPodSandboxRequest{
		Filter: &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"pod": "pod7"}},
	})
	if err != nil || len(list.GetItems()) != 1 || list.GetItems()[0].GetId() != ids[7] {
		t.Fatalf("label selector pod=pod7: got %v, %v", list.GetItems(), err)
	}

	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			removePod(t, b, id)
		}()
	}
	wg.Wait()
	assertClean(t, b, n, parent, pids, ids, ips)
}

func mustStart(t *testing.T, pid int) uint64 {
	t.Helper()
	st, err := proc.ReadStat(pid)
	if err != nil {
		t.Fatalf("pid %d: %v", pid, err)
	}
	return st.StartTime
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCNIFailureAndHangLeaveNothing(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-fail", "berthitfail", "10.123.1.0/24", "berth-fail")
	n.AddPlugin(t, "berth-fail", `[ "$CNI_COMMAND" = ADD ] || exit 0
echo '{"cniVersion":"1.0.0","code":999,"msg":"berth test plugin refuses ADD","details":"by design"}'
exit 1
`)
	hang := uniqueSleep()
	n.AddPlugin(t, "berth-hang", `[ "$CNI_COMMAND" = ADD ] && exec `+hang+`
exit 0
`)
	b := harness.Start(t, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("3s")})
	parent := cgroupParent(t)

	_, err := b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: podConfig("failing", parent)})
	msg := status.Convert(err).Message()
	for _, want := range []string{`"berth-it-fail"`, `type="berth-fail"`, "berth test plugin refuses ADD"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %s", msg, want)
		}
	}
	assertClean(t, b, n, parent, nil, nil, nil)
	// The init of a pod that shares its PID namespace (with a user
	// namespace, and without) is started while CNI ADD runs: the ADD that
	// fails stops it, unpins its namespaces and removes its cgroup.
	for _, userns := range []bool{false, true} {
		cfg := podConfig(fmt.Sprintf("failing-init-%v", userns), parent)
		sharePID(cfg)
		if userns {
			usernsPod(cfg)
		}
		if _, err := b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg}); !strings.Contains(status.Convert(err).Message(), "berth test plugin refuses ADD") {
			t.Errorf("a shared-PID pod (user namespace %v) on the failing network: %v", userns, err)
		}
		assertClean(t, b, n, parent, nil, nil, nil)
	}

	// Now a chain whose last plugin never answers ADD; NetworkReady and
	// RunPodSandbox follow the new file without a restart.
	n.SetChain(t, "bridge", "berth-hang")
	_, err = b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: podConfig("hanging", parent)})
	if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(err.Error(), `type="berth-hang"`) {
		t.Fatalf("want DeadlineExceeded naming berth-hang, got %v", err)
	}
	assertClean(t, b, n, parent, nil, nil, nil)
	if pids := pgrepFull(hang); len(pids) > 0 {
		t.Fatalf("the hanging plugin's processes %v are still running", pids)
	}
}

// pgrepFull lists pids whose command line is exactly cmdline.
// uniqueSleep is a "sleep N" command line no other test (or run) uses, so
// pgrepFull finds only this test's processes.
func uniqueSleep() string {
	return fmt.Sprintf("sleep %d", 1000000+rand.IntN(9000000))
}

// pgrepFull lists the host pids whose command line is cmdline.
func pgrepFull(cmdline string) []string {
	var pids []string
	matches, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err == nil && strings.TrimRight(strings.ReplaceAll(string(data), "\x00", " "), " ") == cmdline {
			pids = append(pids, filepath.Base(filepath.Dir(m)))
		}
	}
	return pids
}

func TestRetriedRunPodSandboxGetsTheFirstSandbox(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-retry", "berthitretry", "10.123.2.0/24")
	waiting, open := n.Gate(t)
	b := harness.Start(t, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m")})
	parent := cgroupParent(t)
	cfg := podConfig("retried", parent)

	short, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := b.Runtime().RunPodSandbox(short, &runtimeapi.RunPodSandboxRequest{Config: cfg}); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("first call: want DeadlineExceeded while CNI is held, got %v", err)
	}
	// The retry waits for the first call's sandbox instead of failing.
	got := make(chan string, 1)
	go func() {
		resp, err := b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg})
		if err != nil {
			t.Errorf("retry: %v", err)
		}
		got <- resp.GetPodSandboxId()
	}()
	entries, _ := os.ReadDir(waiting)
	if len(entries) != 1 {
		t.Fatalf("want one CNI ADD in progress, got %d", len(entries))
	}
	open()
	id := <-got
	if id != entries[0].Name() {
		t.Fatalf("retry got %q, want the first call's sandbox %q", id, entries[0].Name())
	}
	again, err := b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil || again.GetPodSandboxId() != id {
		t.Fatalf("third call: got %q, %v; want %q", again.GetPodSandboxId(), err, id)
	}
	list, err := b.Runtime().ListPodSandbox(ctx(t), &runtimeapi.ListPodSandboxRequest{})
	if err != nil || len(list.GetItems()) != 1 {
		t.Fatalf("want exactly one sandbox, got %v, %v", list.GetItems(), err)
	}
	st, info := podStatus(t, b, id)
	removePod(t, b, id)
	assertClean(t, b, n, parent, []int{info.PID}, []string{id}, []string{st.GetNetwork().GetIp()})
}

func TestSandboxSurvivesBerthKill(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-kill", "berthitkill", "10.123.3.0/24")
	b := harness.Start(t, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m")})
	parent := cgroupParent(t)
	shared := podConfig("survivor", parent)
	sharePID(shared)
	resp, err := b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: shared})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetPodSandboxId()
	before, info := podStatus(t, b, id)
	start := mustStart(t, info.PID)
	// And a pod with no process at all: only its pins hold it.
	resp, err = b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: podConfig("pinned", parent)})
	if err != nil {
		t.Fatal(err)
	}
	pinned := resp.GetPodSandboxId()
	pinnedBefore, _ := podStatus(t, b, pinned)

	b.Kill()
	b.Restart(t)
	after, infoAfter := podStatus(t, b, id)
	if after.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY || after.GetNetwork().GetIp() != before.GetNetwork().GetIp() ||
		infoAfter.PID != info.PID || !proc.Alive(info.PID, start) {
		t.Fatalf("after restart: state %v ip %q pid %d (alive %v); before: ip %q pid %d",
			after.GetState(), after.GetNetwork().GetIp(), infoAfter.PID, proc.Alive(info.PID, start), before.GetNetwork().GetIp(), info.PID)
	}
	pinnedAfter, pinnedInfo := podStatus(t, b, pinned)
	if pinnedAfter.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY || pinnedAfter.GetNetwork().GetIp() != pinnedBefore.GetNetwork().GetIp() {
		t.Fatalf("pod without a process after restart: state %v ip %q; before: ip %q", pinnedAfter.GetState(), pinnedAfter.GetNetwork().GetIp(), pinnedBefore.GetNetwork().GetIp())
	}
	checkPodHolder(t, "pinned", pinnedInfo, false)
	for _, ip := range []string{after.GetNetwork().GetIp(), pinnedAfter.GetNetwork().GetIp()} {
		if err := harness.Ping("", ip); err != nil {
			t.Fatalf("pod unreachable after restart: %v", err)
		}
	}
	removePod(t, b, id)
	removePod(t, b, pinned)
	assertClean(t, b, n, parent, []int{info.PID}, []string{id, pinned}, []string{before.GetNetwork().GetIp(), pinnedBefore.GetNetwork().GetIp()})
}

func TestSandboxHalfCreatedWhenBerthDiedIsRolledBack(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-crash", "berthitcrash", "10.123.4.0/24")
	b, parent, id := killDuringADD(t, n)
	b.Restart(t)
	assertClean(t, b, n, parent, nil, []string{id}, nil)
}

// killDuringADD starts a berth on n, kills it while a RunPodSandbox is in
// CNI ADD, and lets the plugin it started, which outlives it, finish ADD:
// an IP is taken for a sandbox whose record is incomplete.
func killDuringADD(t *testing.T, n *harness.Network) (b *harness.Berth, parent, id string) {
	t.Helper()
	waiting, open := n.Gate(t)
	b = harness.Start(t, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m")})
	parent = cgroupParent(t)
	go b.Runtime().RunPodSandbox(context.Background(), &runtimeapi.RunPodSandboxRequest{Config: podConfig("orphan", parent)})
	waitFor(t, time.Minute, func() bool {
		entries, _ := os.ReadDir(waiting)
		return len(entries) == 1
	})
	entries, _ := os.ReadDir(waiting)
	b.Kill()
	open()
	waitFor(t, time.Minute, func() bool { return len(n.Allocations()) == 1 })
	return b, parent, entries[0].Name()
}

// berth dies during CNI ADD, and at its next start the rollback's CNI DEL
// fails: the record that names the IP stays, and the rollback is retried
// until DEL succeeds and frees it.
func TestHalfCreatedSandboxRollbackRetriedWhileDELFails(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-crashdel", "berthitcrashdel", "10.124.41.0/24")
	b, parent, id := killDuringADD(t, n)
	broken := filepath.Join(t.TempDir(), "broken")
	if err := os.WriteFile(broken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The plugin the pod was being added with now refuses DEL.
	n.AddPlugin(t, "gated-bridge", fmt.Sprintf(`if [ "$CNI_COMMAND" = DEL ] && [ -e %q ]; then
	echo '{"cniVersion":"1.0.0","code":999,"msg":"berth test plugin refuses DEL"}'
	exit 1
fi
exec /usr/lib/cni/bridge
`, broken))
	b.Restart(t)
	if ips := n.Allocations(); len(ips) != 1 {
		t.Fatalf("with DEL refused, the half-created pod's IP should still be taken; host-local holds %v", ips)
	}
	os.Remove(broken)
	// The retry frees the IP midway through: done once nothing is left.
	waitFor(t, time.Minute, func() bool { return len(b.Leftovers(n, parent, nil, []string{id}, nil)) == 0 })
	assertClean(t, b, n, parent, nil, []string{id}, nil)
}

// berth dies during CNI ADD and, before it restarts, the CNI config is
// replaced by another network: the rollback runs DEL on the network the
// pod was being added to (saved with it before ADD), so its IP is freed.
func TestHalfCreatedSandboxDetachedFromItsOwnNetwork(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-crashnet", "berthitcrashnet", "10.123.7.0/24")
	b, parent, id := killDuringADD(t, n)

	// The operator moves the node to another network meanwhile.
	other := harness.NewNetwork(t, "berth-it-crashnet2", "berthitcrashn2", "10.123.8.0/24")
	for _, dir := range []string{n.ConfDir, other.ConfDir} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.conflist"))
		for _, f := range files {
			if dir == n.ConfDir {
				os.Remove(f)
			} else if err := os.Rename(f, filepath.Join(n.ConfDir, filepath.Base(f))); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.Restart(t)
	if ips := n.Allocations(); len(ips) != 0 {
		t.Errorf("the half-created pod's IP %v on its own network is still taken after the rollback", ips)
	}
	if ips := other.Allocations(); len(ips) != 0 {
		t.Errorf("IPs taken on the new network: %v", ips)
	}
	assertClean(t, b, n, parent, nil, []string{id}, nil)
}

// A RunPodSandbox whose CNI ADD fails and whose DEL fails too (a plugin
// that errs, or dies) leaves no IP behind: the rollback keeps the record
// naming it and retries DEL until it works.
func TestFailedRollbackIsRetried(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-undo", "berthitundo", "10.123.9.0/24", "flaky")
	dir := t.TempDir()
	n.AddPlugin(t, "flaky", fmt.Sprintf(`case "$CNI_COMMAND" in
ADD) echo '{"cniVersion":"1.0.0","code":999,"msg":"flaky ADD"}'; exit 1;;
DEL) n=$(cat %[1]s/dels 2>/dev/null || echo 0); echo $((n+1)) >%[1]s/dels
	if [ "$n" -lt 2 ]; then echo '{"cniVersion":"1.0.0","code":999,"msg":"flaky DEL"}'; exit 1; fi;;
VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}';;
esac
`, dir))
	b := harness.Start(t, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m")})
	parent := cgroupParent(t)
	if _, err := b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: podConfig("undone", parent)}); err == nil {
		t.Fatal("RunPodSandbox succeeded with a failing plugin")
	}
	var left []string
	if !eventually(time.Minute, func() bool {
		left = b.Leftovers(n, parent, nil, []string{n.Name}, nil)
		return len(left) == 0
	}) {
		t.Fatalf("left behind by the failed create:\n  %s", strings.Join(left, "\n  "))
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "dels")); strings.TrimSpace(string(data)) != "3" {
		t.Errorf("the plugin saw %q DELs, want 3: two that failed, one retried", data)
	}
}

func TestHostNetworkPod(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-host", "berthithost", "10.123.5.0/24")
	b := harness.Start(t, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m")})
	parent := cgroupParent(t)
	cfg := podConfig("hostnet", parent)
	cfg.Linux.SecurityContext.NamespaceOptions.Network = runtimeapi.NamespaceMode_NODE
	sharePID(cfg) // an init, which must be in the host's netns
	resp, err := b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetPodSandboxId()
	st, info := podStatus(t, b, id)
	if st.GetNetwork().GetIp() != "" || info.NetNS != "" || len(n.Allocations()) != 0 ||
		st.GetLinux().GetNamespaces().GetOptions().GetNetwork() != runtimeapi.NamespaceMode_NODE {
		t.Fatalf("host-network pod got a network of its own: %v, netns %q, allocations %v", st, info.NetNS, n.Allocations())
	}
	self, _ := os.Readlink("/proc/self/ns/net")
	init, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", info.PID))
	if self != init {
		t.Fatalf("pod init is in netns %s, the host is in %s", init, self)
	}
	if info.Namespaces["uts"] != "" || !isNamespace(info.Namespaces["ipc"]) {
		t.Fatalf("host-network pod's namespaces %v: want the host's UTS and an IPC namespace of its own", info.Namespaces)
	}
	hostname, _ := os.Hostname()
	data, err := os.ReadFile(filepath.Join(b.Dir, "run", "sandboxes", id, "hostname"))
	if err != nil || strings.TrimSpace(string(data)) != hostname {
		t.Fatalf("hostname file %q, %v; want the host's %q", data, err, hostname)
	}
	removePod(t, b, id)
	assertClean(t, b, n, parent, []int{info.PID}, []string{id}, nil)
}

func TestInvalidSandboxConfigsLeaveNothing(t *testing.T) {
	n := harness.NewNetwork(t, "berth-it-bad", "berthitbad", "10.123.6.0/24")
	b := harness.Start(t, harness.Options{CNIConfDir: n.ConfDir, CNI: n.Config("2m")})
	parent := cgroupParent(t)
	cases := map[string]func(*runtimeapi.RunPodSandboxRequest){
		"no metadata":     func(r *runtimeapi.RunPodSandboxRequest) { r.Config.Metadata = nil },
		"unknown handler": func(r *runtimeapi.RunPodSandboxRequest) { r.RuntimeHandler = "kata" },
		"host sysctl": func(r *runtimeapi.RunPodSandboxRequest) {
			r.Config.Linux.Sysctls = map[string]string{"kernel.panic": "1"}
		},
		"systemd slice": func(r *runtimeapi.RunPodSandboxRequest) { r.Config.Linux.CgroupParent = "kubepods-pod1.slice" },
		"net sysctl, host": func(r *runtimeapi.RunPodSandboxRequest) {
			r.Config.Linux.SecurityContext.NamespaceOptions.Network = runtimeapi.NamespaceMode_NODE
			r.Config.Linux.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
		},
	}
	for name, mutate := range cases {
		req := &runtimeapi.RunPodSandboxRequest{Config: podConfig("bad", parent)}
		mutate(req)
		_, err := b.Runtime().RunPodSandbox(ctx(t), req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: want InvalidArgument, got %v", name, err)
		}
	}
	assertClean(t, b, n, parent, nil, nil, nil)

	// Unknown IDs: status is NotFound, stop and remove are fine.
	if _, err := b.Runtime().PodSandboxStatus(ctx(t), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("status of unknown pod: want NotFound, got %v", err)
	}
	removePod(t, b, "nope")
}
