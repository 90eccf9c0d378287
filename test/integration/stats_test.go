//go:build integration

package integration

import (
	"io"
	"net"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The stats move with what the containers do: one holding 64 MiB shows a
// working set (and RSS) of at least that, and what its limit leaves; a CPU
// burner's usage rises at a rate; 10 MiB written into a rootfs shows in
// its writable layer and in ImageFsInfo's container filesystem; traffic to
// the pod shows in its rx bytes; and the pod's own stats hold its cgroup's
// numbers, its processes and its containers, listed and streamed alike.
func TestStatsMoveWithTheWork(t *testing.T) {
	f := newContainerFixture(t, "berth-it-stats", "berthitstats", "10.124.31.0/24")
	b := f.b
	p := f.runPod(t, "stats", nil)
	rt := b.Runtime()

	// x is used after the sleep, so the shell lives on holding it (a last
	// command would be exec'd, the memory freed).
	memCfg := containerConfig("mem", "sh", "-c", `x=$(head -c 67108864 /dev/zero | tr '\0' a); sleep 3600; echo ${#x}`)
	memCfg.Linux.Resources = &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 256 << 20}
	mem := runContainer(t, b, p, memCfg)
	cpu := runContainer(t, b, p, containerConfig("cpu", "sh", "-c", "while :; do :; done"))
	disk := runContainer(t, b, p, containerConfig("disk", "sh", "-c", "head -c 10485760 /dev/urandom >/big && sync && sleep 3600"))
	stats := func(id string) *runtimeapi.ContainerStats {
		t.Helper()
		resp, err := rt.ContainerStats(ctx(t), &runtimeapi.ContainerStatsRequest{ContainerId: id})
		if err != nil {
			t.Fatalf("ContainerStats %s: %v", id, err)
		}
		return resp.GetStats()
	}

	var st *runtimeapi.ContainerStats
	waitFor(t, time.Minute, func() bool {
		// Until the shell holds all of it: the pipe and tr count on the way.
		st = stats(mem)
		return st.GetMemory().GetWorkingSetBytes().GetValue() >= 64<<20 && st.GetMemory().GetRssBytes().GetValue() >= 64<<20
	})
	m := st.GetMemory()
	if m.GetPageFaults().GetValue() == 0 {
		t.Errorf("memory of the 64 MiB container: no page faults")
	}
	if a := m.GetAvailableBytes(); a == nil || a.GetValue() != 256<<20-m.GetWorkingSetBytes().GetValue() {
		t.Errorf("available bytes %v with a 256 MiB limit and a working set of %d", a, m.GetWorkingSetBytes().GetValue())
	}

	first := stats(cpu)
	time.Sleep(time.Second) // two readings a second apart make a rate
	second := stats(cpu)
	if second.GetCpu().GetUsageCoreNanoSeconds().GetValue() <= first.GetCpu().GetUsageCoreNanoSeconds().GetValue() {
		t.Errorf("the CPU burner's usage did not rise: %d then %d", first.GetCpu().GetUsageCoreNanoSeconds().GetValue(), second.GetCpu().GetUsageCoreNanoSeconds().GetValue())
	}
	if second.GetCpu().GetUsageNanoCores().GetValue() == 0 {
		t.Errorf("the CPU burner has no CPU rate: %v", second.GetCpu())
	}

	waitFor(t, time.Minute, func() bool {
		st = stats(disk)
		return st.GetWritableLayer().GetUsedBytes().GetValue() >= 10<<20
	})
	if st.GetWritableLayer().GetInodesUsed().GetValue() == 0 || st.GetWritableLayer().GetFsId().GetMountpoint() == "" {
		t.Errorf("writable layer %v", st.GetWritableLayer())
	}
	fs, err := b.Image().ImageFsInfo(ctx(t), &runtimeapi.ImageFsInfoRequest{})
	if err != nil || len(fs.GetContainerFilesystems()) != 1 || fs.GetContainerFilesystems()[0].GetUsedBytes().GetValue() < 10<<20 {
		t.Errorf("ImageFsInfo's container filesystems after 10 MiB written: %v, %v", fs.GetContainerFilesystems(), err)
	}

	podStats := func() *runtimeapi.PodSandboxStats {
		t.Helper()
		resp, err := rt.PodSandboxStats(ctx(t), &runtimeapi.PodSandboxStatsRequest{PodSandboxId: p.id})
		if err != nil {
			t.Fatalf("PodSandboxStats: %v", err)
		}
		return resp.GetStats()
	}
	before := podStats().GetLinux().GetNetwork().GetDefaultInterface().GetRxBytes().GetValue()
	conn, err := net.Dial("udp", net.JoinHostPort(p.ip, "9"))
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1000)
	for range 200 {
		conn.Write(payload) // nobody listens: the bytes still arrive at eth0
	}
	conn.Close()
	var ps *runtimeapi.PodSandboxStats
	waitFor(t, time.Minute, func() bool {
		ps = podStats()
		return ps.GetLinux().GetNetwork().GetDefaultInterface().GetRxBytes().GetValue() >= before+200*1000
	})
	l := ps.GetLinux()
	if l.GetNetwork().GetDefaultInterface().GetName() != "eth0" {
		t.Errorf("default interface %v", l.GetNetwork().GetDefaultInterface())
	}
	if l.GetMemory().GetWorkingSetBytes().GetValue() < 64<<20 || l.GetCpu().GetUsageCoreNanoSeconds().GetValue() == 0 {
		t.Errorf("the pod's cgroup does not hold its containers: memory %v, cpu %v", l.GetMemory(), l.GetCpu())
	}
	if n := l.GetProcess().GetProcessCount().GetValue(); n < 4 {
		t.Errorf("the pod has %d processes, want at least its pause and three containers", n)
	}
	if len(l.GetContainers()) != 3 {
		t.Errorf("the pod's stats hold %d containers, want 3", len(l.GetContainers()))
	}

	list, err := rt.ListPodSandboxStats(ctx(t), &runtimeapi.ListPodSandboxStatsRequest{Filter: &runtimeapi.PodSandboxStatsFilter{Id: p.id}})
	if err != nil || len(list.GetStats()) != 1 || list.GetStats()[0].GetAttributes().GetId() != p.id {
		t.Errorf("ListPodSandboxStats by ID: %v, %v", list.GetStats(), err)
	}
	stream, err := rt.StreamPodSandboxStats(ctx(t), &runtimeapi.StreamPodSandboxStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	streamed := 0
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("StreamPodSandboxStats: %v", err)
		}
		streamed += len(resp.GetPodSandboxStats())
	}
	if streamed != 1 {
		t.Errorf("StreamPodSandboxStats sent %d pods, want 1", streamed)
	}
	cstream, err := rt.StreamContainerStats(ctx(t), &runtimeapi.StreamContainerStatsRequest{Filter: &runtimeapi.ContainerStatsFilter{PodSandboxId: p.id}})
	if err != nil {
		t.Fatal(err)
	}
	streamed = 0
	for {
		resp, err := cstream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("StreamContainerStats: %v", err)
		}
		streamed += len(resp.GetContainerStats())
	}
	if streamed != 3 {
		t.Errorf("StreamContainerStats sent %d containers, want 3", streamed)
	}

	// The cAdvisor-style metrics: each described once, with its labels.
	descs, err := rt.ListMetricDescriptors(ctx(t), &runtimeapi.ListMetricDescriptorsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string][]string{}
	for _, d := range descs.GetDescriptors() {
		labels[d.GetName()] = d.GetLabelKeys()
	}
	metrics, err := rt.ListPodSandboxMetrics(ctx(t), &runtimeapi.ListPodSandboxMetricsRequest{})
	if err != nil || len(metrics.GetPodMetrics()) != 1 {
		t.Fatalf("ListPodSandboxMetrics: %v, %v", metrics.GetPodMetrics(), err)
	}
	// find returns the value of a metric whose labels include want.
	find := func(ms []*runtimeapi.Metric, name string, want map[string]string) (uint64, bool) {
		for _, m := range ms {
			keys, ok := labels[m.GetName()]
			if !ok {
				t.Errorf("metric %s has no descriptor", m.GetName())
				continue
			}
			if len(keys) != len(m.GetLabelValues()) {
				t.Errorf("metric %s has %d label values for %d keys", m.GetName(), len(m.GetLabelValues()), len(keys))
				continue
			}
			if m.GetName() != name {
				continue
			}
			match := true
			for i, k := range keys {
				if v, ok := want[k]; ok && m.GetLabelValues()[i] != v {
					match = false
				}
			}
			if match {
				return m.GetValue().GetValue(), true
			}
		}
		return 0, false
	}
	pm := metrics.GetPodMetrics()[0]
	if v, ok := find(pm.GetMetrics(), "container_network_receive_bytes_total", map[string]string{"interface": "eth0", "pod": "stats", "namespace": "it"}); !ok || v < 200*1000 {
		t.Errorf("the pod's received bytes metric: %d, %v", v, ok)
	}
	seen := 0
	for _, cm := range pm.GetContainerMetrics() {
		if cm.GetContainerId() != mem {
			continue
		}
		seen++
		if v, ok := find(cm.GetMetrics(), "container_memory_working_set_bytes", map[string]string{"container": "mem", "id": mem, "pod": "stats"}); !ok || v < 64<<20 {
			t.Errorf("the 64 MiB container's working set metric: %d, %v", v, ok)
		}
		if v, ok := find(cm.GetMetrics(), "container_spec_memory_limit_bytes", nil); !ok || v != 256<<20 {
			t.Errorf("the container's memory limit metric: %d, %v", v, ok)
		}
	}
	if seen != 1 {
		t.Errorf("the 64 MiB container has %d sets of metrics, want 1", seen)
	}

	for _, id := range []string{mem, cpu, disk} {
		stopContainer(t, b, id, 0)
	}
	f.removeAll(t, p, mem, cpu, disk)
}
