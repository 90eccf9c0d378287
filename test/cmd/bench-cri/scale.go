package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/proc"
)

// Scale is the runtime holding many pods.
type Scale struct {
	Pods int `json:"pods"`
	// DaemonRSSIdleMiB is the daemon's RSS before the pods, DaemonRSSMiB
	// with them (0 when the daemon's pid is not known).
	DaemonRSSIdleMiB float64 `json:"daemon_rss_idle_mib"`
	DaemonRSSMiB     float64 `json:"daemon_rss_mib"`
	// DaemonRSSAnonMiB and DaemonRSSFileMiB split DaemonRSSMiB into the
	// daemon's own memory (heap, stacks) and the pages of its binary and
	// libraries mapped from the page cache.
	DaemonRSSAnonMiB float64 `json:"daemon_rss_anon_mib"`
	DaemonRSSFileMiB float64 `json:"daemon_rss_file_mib"`
	// OverheadPerPodKiB is the PSS of every process the pods brought that
	// is not a container's own (monitors, pause or init processes, shims),
	// per pod; OverheadByCommand splits it by command name.
	OverheadPerPodKiB float64            `json:"overhead_per_pod_kib"`
	OverheadByCommand map[string]float64 `json:"overhead_by_command_kib"`
	// Queries are the read RPCs kubelet makes all the time, with the pods
	// in place.
	Queries []Latency `json:"queries"`
	// RestartMS is from SIGKILL of the daemon to its first answered RPC;
	// RestartListedMS to its first ListContainers listing every container.
	// Both 0 when the bench cannot restart the daemon.
	RestartMS       float64 `json:"restart_to_first_rpc_ms"`
	RestartListedMS float64 `json:"restart_to_full_list_ms"`
}

// daemon is the runtime's process, when the bench knows it.
type daemon interface {
	pid() int
	// restart kills the daemon with SIGKILL and starts it again; it
	// returns when the new one's process exists.
	restart() error
	// canRestart says whether restart can start it again.
	canRestart() bool
}

// scale makes n pods (10 at a time), measures the daemon and rounds of
// the queries with them in place, restarts the daemon, and removes the pods.
func (c *cri) scale(ctx context.Context, n, rounds int, d daemon, reconnect func() error) (Scale, error) {
	out := Scale{Pods: n, OverheadByCommand: map[string]float64{}}
	if d != nil {
		out.DaemonRSSIdleMiB = rssMiB(d.pid())
	}
	before := processes()
	pods, _, _, err := c.many(ctx, n, 10)
	if err != nil {
		return out, err
	}
	defer c.removeAll(context.Background(), pods, 10, newSamples())
	if d != nil {
		out.DaemonRSSMiB = rssMiB(d.pid())
		out.DaemonRSSAnonMiB = procField(fmt.Sprintf("/proc/%d/status", d.pid()), "RssAnon:") / 1024
		out.DaemonRSSFileMiB = procField(fmt.Sprintf("/proc/%d/status", d.pid()), "RssFile:") / 1024
	}
	workloads := map[int]bool{}
	for _, p := range pods {
		if pid := c.containerPid(ctx, p.container); pid > 0 {
			workloads[pid] = true
		}
	}
	if len(workloads) != len(pods) {
		fmt.Fprintf(os.Stderr, "bench-cri: %d of %d container pids known; the per-pod overhead counts the others' processes too\n", len(workloads), len(pods))
	}
	var total float64
	for pid, comm := range processes() {
		if _, old := before[pid]; old || workloads[pid] || (d != nil && pid == d.pid()) || pid == os.Getpid() {
			continue
		}
		kib := pssKiB(pid)
		total += kib
		out.OverheadByCommand[comm] += kib / float64(n)
	}
	out.OverheadPerPodKiB = total / float64(n)
	if out.Queries, err = c.queries(ctx, pods, rounds); err != nil {
		return out, err
	}
	if d != nil && d.canRestart() {
		if out.RestartMS, out.RestartListedMS, err = c.restart(ctx, d, reconnect, len(pods)); err != nil {
			return out, err
		}
	}
	return out, nil
}

// queries times ListContainers, ListPodSandbox, ContainerStatus and
// PodSandboxStatus (of a random pod), rounds times each.
func (c *cri) queries(ctx context.Context, pods []pod, rounds int) ([]Latency, error) {
	s := newSamples()
	for range rounds {
		p := pods[rand.IntN(len(pods))]
		calls := []struct {
			name string
			fn   func() error
		}{
			{"ListContainers", func() error {
				_, err := c.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
				return err
			}},
			{"ListPodSandbox", func() error {
				_, err := c.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
				return err
			}},
			{"ContainerStatus", func() error {
				_, err := c.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: p.container})
				return err
			}},
			{"PodSandboxStatus", func() error {
				_, err := c.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: p.id})
				return err
			}},
		}
		for _, call := range calls {
			if err := s.timed(call.name, call.fn); err != nil {
				return nil, fmt.Errorf("%s: %w", call.name, err)
			}
		}
	}
	return s.summary(""), nil
}

// restart kills the daemon and times its way back: the first RPC it
// answers, then the first ListContainers with every container.
func (c *cri) restart(ctx context.Context, d daemon, reconnect func() error, containers int) (first, listed float64, err error) {
	start := time.Now()
	if err := d.restart(); err != nil {
		return 0, 0, err
	}
	if err := reconnect(); err != nil {
		return 0, 0, err
	}
	if err := c.waitServing(2 * time.Minute); err != nil {
		return 0, 0, err
	}
	first = ms(time.Since(start))
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := c.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
		if err == nil && len(resp.GetContainers()) >= containers {
			return first, ms(time.Since(start)), nil
		}
		time.Sleep(time.Millisecond)
	}
	return 0, 0, fmt.Errorf("the restarted daemon did not list all %d containers in 2 minutes", containers)
}

// waitServing waits for the runtime's first answered Version.
func (c *cri) waitServing(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		call, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.rt.Version(call, &runtimeapi.VersionRequest{})
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the runtime did not answer Version within %s: %w", limit, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// containerPid reads a container's pid from its verbose status (berth,
// CRI-O and containerd all put it in the "info" JSON, or as "pid").
func (c *cri) containerPid(ctx context.Context, id string) int {
	resp, err := c.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		return 0
	}
	if v, err := strconv.Atoi(resp.GetInfo()["pid"]); err == nil {
		return v
	}
	var info struct {
		Pid int `json:"pid"`
	}
	json.Unmarshal([]byte(resp.GetInfo()["info"]), &info)
	return info.Pid
}

// processes lists the host's processes by pid, with their command names.
func processes() map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil {
			continue
		}
		// A kernel thread started meanwhile (a kworker) is no overhead of
		// the pods.
		if st, err := proc.ReadStat(pid); err == nil && st.KernelThread() {
			continue
		}
		out[pid] = strings.TrimSpace(string(comm))
	}
	return out
}

// pssKiB is a process's proportional set size (its share of pages it
// shares with others), in KiB; 0 when it is gone.
func pssKiB(pid int) float64 {
	return procField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:")
}

func rssMiB(pid int) float64 {
	return procField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:") / 1024
}

// procField reads a "Key:   123 kB" line of a /proc file.
func procField(path, key string) float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				return v
			}
		}
	}
	return 0
}
