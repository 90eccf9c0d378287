//go:build integration

package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/test/harness"
)

// chaosRounds is how many times the chaos test kills berth: a few in make
// test, more with BERTH_CHAOS_ROUNDS (make chaos).
func chaosRounds() int {
	if n, err := strconv.Atoi(os.Getenv("BERTH_CHAOS_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 4
}

// churn drives pods and containers through their lives as kubelet does,
// until ctx ends or berth stops answering; some are left alive for later
// rounds. Errors are expected: berth is killed under it.
func churn(c context.Context, b *harness.Berth, parent string, name string, rng *rand.Rand) {
	rt := b.Runtime()
	for i := 0; c.Err() == nil; i++ {
		cfg := podConfig(fmt.Sprintf("%s-%d", name, i), parent)
		// Pods with an init and pods with none, each with a user
		// namespace and without.
		if i%2 == 1 {
			sharePID(cfg)
		}
		if i%4 >= 2 {
			usernsPod(cfg)
		}
		pod, err := rt.RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: cfg})
		if err != nil {
			return
		}
		id := pod.GetPodSandboxId()
		ctr, err := rt.CreateContainer(c, &runtimeapi.CreateContainerRequest{
			PodSandboxId: id, Config: containerConfig("app", "sleep", "3600"), SandboxConfig: cfg,
		})
		if err != nil {
			return
		}
		cid := ctr.GetContainerId()
		if _, err := rt.StartContainer(c, &runtimeapi.StartContainerRequest{ContainerId: cid}); err != nil {
			return
		}
		if rng.IntN(3) == 0 {
			continue // this one lives on
		}
		if _, err := rt.ExecSync(c, &runtimeapi.ExecSyncRequest{ContainerId: cid, Cmd: []string{"true"}, Timeout: 10}); err != nil {
			return
		}
		if _, err := rt.StopContainer(c, &runtimeapi.StopContainerRequest{ContainerId: cid, Timeout: 1}); err != nil {
			return
		}
		if _, err := rt.RemoveContainer(c, &runtimeapi.RemoveContainerRequest{ContainerId: cid}); err != nil {
			return
		}
		if _, err := rt.StopPodSandbox(c, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
			return
		}
		if _, err := rt.RemovePodSandbox(c, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
			return
		}
	}
}

// inconsistencies lists where berth's CRI view and the host differ: every
// listed pod and container must be real (a ready pod's pause and a running
// container's process live), and every object on the host listed (its
// namespace pins, dirs, monitors, cgroups and IPs).
func inconsistencies(t *testing.T, f *containerFixture) []string {
	t.Helper()
	b := f.b
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	pods, err := b.Runtime().ListPodSandbox(ctx(t), &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		t.Fatalf("ListPodSandbox: %v", err)
	}
	listed := map[string]bool{}
	ips := map[string]bool{}
	for _, p := range pods.GetItems() {
		listed[p.GetId()] = true
		resp, err := b.Runtime().PodSandboxStatus(ctx(t), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: p.GetId(), Verbose: true})
		if err != nil {
			errorf("pod %s is listed, but its status: %v", p.GetId(), err)
			continue
		}
		st := resp.GetStatus()
		var info struct {
			podInfo
			// The pod's network while it is attached: a pod whose DEL
			// failed still holds its IPs, NotReady or not.
			Network struct {
				Network string   `json:"network"`
				IPs     []string `json:"ips"`
			} `json:"network"`
		}
		decodeInfo(t, resp.GetInfo(), &info)
		if info.Network.Network != "" {
			for _, ip := range info.Network.IPs {
				ips[ip] = true
			}
		}
		if st.GetState() == runtimeapi.PodSandboxState_SANDBOX_READY {
			if info.PID == 0 {
				// No process of its own: its pins hold it.
				for kind, pin := range map[string]string{"net": info.NetNS, "ipc": info.Namespaces["ipc"], "uts": info.Namespaces["uts"]} {
					if !isNamespace(pin) {
						errorf("pod %s is listed ready, but its %s namespace pin %q is gone", p.GetId(), kind, pin)
					}
				}
			} else if s, err := proc.ReadStat(info.PID); err != nil || s.State == 'Z' {
				errorf("pod %s is listed ready, but its init %d is gone", p.GetId(), info.PID)
			}
		}
		for _, ip := range append([]*runtimeapi.PodIP{{Ip: st.GetNetwork().GetIp()}}, st.GetNetwork().GetAdditionalIps()...) {
			ips[ip.GetIp()] = true
		}
	}
	ctrs := listContainers(t, b, nil)
	for _, c := range ctrs {
		listed[c.GetId()] = true
		if !listed[c.GetPodSandboxId()] {
			errorf("container %s is listed, its pod %s is not", c.GetId(), c.GetPodSandboxId())
		}
		resp, err := b.Runtime().ContainerStatus(ctx(t), &runtimeapi.ContainerStatusRequest{ContainerId: c.GetId(), Verbose: true})
		if err != nil {
			errorf("container %s is listed, but its status: %v", c.GetId(), err)
			continue
		}
		st := resp.GetStatus()
		var info containerInfo
		decodeInfo(t, resp.GetInfo(), &info)
		if st.GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING {
			if s, err := proc.ReadStat(info.PID); err != nil || s.State == 'Z' {
				errorf("container %s is listed running, but its process %d is gone", c.GetId(), info.PID)
			}
		}
	}
	unlisted := func(what, id string) {
		if !listed[id] {
			errorf("%s of %s is on the host, but berth lists no such object", what, id)
		}
	}
	for _, d := range []string{"run/sandboxes", "run/containers", "root/containers"} {
		entries, _ := os.ReadDir(filepath.Join(b.Dir, d))
		for _, e := range entries {
			unlisted(d, e.Name())
		}
	}
	pins, _ := os.ReadDir(filepath.Join(b.Dir, "run", "ns"))
	for _, e := range pins {
		if e.Name() == harness.PodInitMountNS {
			continue // berth's own, not a pod's
		}
		id, _, _ := strings.Cut(e.Name(), "-")
		unlisted("namespace pin "+e.Name(), id)
	}
	for _, id := range conmonContainerIDs(b) {
		unlisted("a conmon", id)
	}
	for _, dir := range harness.CgroupDirs(f.parent) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if id, ok := strings.CutPrefix(e.Name(), "berth-"); ok && e.IsDir() {
				unlisted("cgroup "+filepath.Join(dir, e.Name()), id)
			}
		}
	}
	for _, ip := range f.n.Allocations() {
		if !ips[ip] {
			errorf("host-local holds %s, which no listed pod has", ip)
		}
	}
	return out
}

// killIPAM kills the IPAM plugins (host-local) at work for pods of the
// berth in dir (their CNI_NETNS is below it): where a pod's IP is taken
// and given back. Only they are killed: the bridge plugin killed while it
// edits iptables can leave a NAT chain its own DEL does not remove, which
// no runtime can undo.
func killIPAM(dir string) {
	environs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, path := range environs {
		env, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(env), "CNI_NETNS="+dir+"/") {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(path), "cmdline"))
		if filepath.Base(strings.TrimRight(string(cmdline), "\x00")) != "host-local" {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// logAbout are the lines of berth's log, across its restarts, at info
// level or above, that name an object the problems name.
func logAbout(b *harness.Berth, problems []string) string {
	ids := map[string]bool{}
	for _, p := range problems {
		for _, id := range objectID.FindAllString(p, -1) {
			ids[id] = true
		}
	}
	var out []string
	for _, line := range strings.Split(b.Logs(), "\n") {
		if !strings.Contains(line, "level=warning") && !strings.Contains(line, "level=error") && !strings.Contains(line, "level=info") {
			continue
		}
		for _, id := range objectID.FindAllString(line, -1) {
			if ids[id] {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

var objectID = regexp.MustCompile(`[0-9a-f]{64}`)

// conmonContainerIDs are the containers whose conmon (of this berth's
// runroot) runs.
func conmonContainerIDs(b *harness.Berth) []string {
	var out []string
	for _, pid := range b.Conmons() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		if i := slices.Index(args, "-c"); i >= 0 && i+1 < len(args) {
			out = append(out, args[i+1])
		}
	}
	return out
}

// berth is killed with SIGKILL at random moments while several clients
// create, start, exec, stop and remove pods and containers. After each
// restart the CRI view is the host's, and once everything is removed
// nothing is left on the host.
func TestChaosBerthKilledMidLifecycle(t *testing.T) {
	f := newContainerFixture(t, "berth-it-chaos", "berthitchaos", "10.124.24.0/24")
	b := f.b
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d rounds", seed, chaosRounds())
	rng := rand.New(rand.NewPCG(seed, 0))
	const clients = 4
	kills := map[string]int{}
	for round := range chaosRounds() {
		c, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := range clients {
			crng := rand.New(rand.NewPCG(seed, uint64(round*clients+i+1)))
			wg.Go(func() { churn(c, b, f.parent, fmt.Sprintf("chaos-%d-%d", round, i), crng) })
		}
		// Chaos, not synchronisation: the kill lands anywhere in their work.
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		what := []string{"berth", "berth", "conmon", "cni"}[rng.IntN(4)]
		kills[what]++
		switch what {
		case "berth":
			b.Kill()
		case "conmon":
			// A monitor dies: its container runs on, and berth must say so
			// until it exits.
			if pids := b.Conmons(); len(pids) > 0 {
				syscall.Kill(pids[rng.IntN(len(pids))], syscall.SIGKILL)
			}
		case "cni":
			// IPAM plugins die mid-ADD or mid-DEL for a while: the calls
			// fail and roll back, and no IP stays taken.
			for end := time.Now().Add(time.Second); time.Now().Before(end); {
				killIPAM(b.Dir)
				time.Sleep(2 * time.Millisecond)
			}
		}
		cancel()
		wg.Wait()
		var problems []string
		if what == "berth" {
			// Right after the restart: what the restart rolled back is gone.
			b.Restart(t)
			problems = inconsistencies(t, f)
		} else if !eventually(time.Minute, func() bool { problems = inconsistencies(t, f); return len(problems) == 0 }) {
			// berth lives on, finishing what the clients gave up waiting
			// for (kubelet's retries would find it): consistent once done.
			problems = append(problems, "(still, a minute after the clients stopped)")
		}
		if len(problems) > 0 {
			t.Fatalf("round %d (seed %d, %s killed): the CRI view and the host differ:\n  %s\nberth's log about them:\n%s",
				round, seed, what, strings.Join(problems, "\n  "), logAbout(b, problems))
		}
	}

	// Everything goes, as kubelet would remove it.
	pods, err := b.Runtime().ListPodSandbox(ctx(t), &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var all []testPod
	for _, p := range pods.GetItems() {
		removePod(t, b, p.GetId())
		all = append(all, testPod{id: p.GetId()})
	}
	t.Logf("kills: %d of berth, %d of a conmon, %d rounds of IPAM plugins killed; %d pods left alive across them",
		kills["berth"], kills["conmon"], kills["cni"], len(all))
	f.assertAllClean(t, append(all, testPod{id: f.n.Name}))
}
