package server

import (
	"context"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/sandbox"
)

// defaultInterface is the pod's interface kubelet reports first: the one
// CNI made (CNI_IFNAME).
const defaultInterface = "eth0"

// PodSandboxStats reports a pod's CPU, memory and processes (its cgroup),
// its network counters and each of its containers' stats.
func (s *Server) PodSandboxStats(ctx context.Context, req *runtimeapi.PodSandboxStatsRequest) (*runtimeapi.PodSandboxStatsResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, errNoSandboxID
	}
	rec, st, err := s.sandboxes.Stats(req.GetPodSandboxId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.PodSandboxStatsResponse{Stats: s.criPodSandboxStats(&rec, st)}, nil
}

// ListPodSandboxStats reports the stats of the pods that match the filter
// (ID or prefix, labels).
func (s *Server) ListPodSandboxStats(ctx context.Context, req *runtimeapi.ListPodSandboxStatsRequest) (*runtimeapi.ListPodSandboxStatsResponse, error) {
	return &runtimeapi.ListPodSandboxStatsResponse{Stats: s.listPodSandboxStats(req.GetFilter())}, nil
}

// StreamPodSandboxStats is ListPodSandboxStats in batches.
func (s *Server) StreamPodSandboxStats(req *runtimeapi.StreamPodSandboxStatsRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamPodSandboxStatsResponse]) error {
	items := s.listPodSandboxStats(req.GetFilter())
	return sendBatches(items, func(b []*runtimeapi.PodSandboxStats) *runtimeapi.StreamPodSandboxStatsResponse {
		return &runtimeapi.StreamPodSandboxStatsResponse{PodSandboxStats: b}
	}, stream.Send)
}

func (s *Server) listPodSandboxStats(f *runtimeapi.PodSandboxStatsFilter) []*runtimeapi.PodSandboxStats {
	filter := &runtimeapi.PodSandboxFilter{Id: f.GetId(), LabelSelector: f.GetLabelSelector()}
	out := []*runtimeapi.PodSandboxStats{}
	for _, rec := range s.sandboxes.List() {
		if !sandboxMatches(&rec, filter) {
			continue
		}
		out = append(out, s.criPodSandboxStats(&rec, s.sandboxes.StatsOf(&rec)))
	}
	return out
}

// podUsage is a pod's numbers and its containers': the pod's are its own
// cgroup's, or, with no pod cgroup to hold them, its pause's and its
// containers' added up.
type podUsage struct {
	pod        cgroups.Stats
	containers []container.Record
	stats      []container.Stats // of each of containers
}

func (s *Server) podUsage(rec *sandbox.Record, st *sandbox.Stats) podUsage {
	u := podUsage{pod: st.Cgroup, containers: s.containers.OfPod(rec.ID)}
	for i := range u.containers {
		cs := s.containers.StatsOf(&u.containers[i])
		u.stats = append(u.stats, cs)
		if !st.OwnCgroup {
			addUsage(&u.pod, &cs.Stats)
		}
	}
	return u
}

func (s *Server) criPodSandboxStats(rec *sandbox.Record, st sandbox.Stats) *runtimeapi.PodSandboxStats {
	u := s.podUsage(rec, &st)
	pod := u.pod
	var containers []*runtimeapi.ContainerStats
	for i := range u.containers {
		containers = append(containers, s.criContainerStats(&u.containers[i], u.stats[i]))
	}
	ts := pod.Timestamp.UnixNano()
	cpu := criCPU(&pod)
	if st.HasCPURate {
		cpu.UsageNanoCores = u64(st.CPUNanoCores)
	}
	linux := &runtimeapi.LinuxPodSandboxStats{
		Cpu:        cpu,
		Memory:     criMemory(&pod),
		Process:    &runtimeapi.ProcessUsage{Timestamp: ts, ProcessCount: u64(pod.Processes)},
		Io:         &runtimeapi.IoUsage{Timestamp: ts, Psi: criPSI(pod.IOPressure)},
		Containers: containers,
	}
	if st.Network != nil {
		linux.Network = &runtimeapi.NetworkUsage{Timestamp: st.NetworkAt.UnixNano()}
		for _, d := range st.Network {
			iface := &runtimeapi.NetworkInterfaceUsage{
				Name:     d.Name,
				RxBytes:  u64(d.RxBytes),
				RxErrors: u64(d.RxErrors),
				TxBytes:  u64(d.TxBytes),
				TxErrors: u64(d.TxErrors),
			}
			switch d.Name {
			case defaultInterface:
				linux.Network.DefaultInterface = iface
			case "lo":
			default:
				linux.Network.Interfaces = append(linux.Network.Interfaces, iface)
			}
		}
	}
	return &runtimeapi.PodSandboxStats{
		Attributes: &runtimeapi.PodSandboxAttributes{
			Id:          rec.ID,
			Metadata:    criSandboxMetadata(&rec.Config),
			Labels:      rec.Config.Labels,
			Annotations: rec.Config.Annotations,
		},
		Linux: linux,
	}
}

// addUsage adds a container's cumulative numbers to a pod's.
func addUsage(pod, c *cgroups.Stats) {
	pod.CPUNanos += c.CPUNanos
	pod.MemoryUsage += c.MemoryUsage
	pod.MemoryWorkingSet += c.MemoryWorkingSet
	pod.MemoryRSS += c.MemoryRSS
	pod.PageFaults += c.PageFaults
	pod.MajorPageFaults += c.MajorPageFaults
	pod.SwapUsage += c.SwapUsage
	pod.Processes += c.Processes
}
