package server

import (
	"context"
	"slices"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/sandbox"
)

// The labels of every pod metric, cAdvisor's: dashboards select and sum by
// them. A pod's own metrics (its cgroup, its network) have an empty
// container, name and image.
var metricLabels = []string{"container", "id", "image", "name", "namespace", "pod"}

// podMetric is one metric ListPodSandboxMetrics reports, named as cAdvisor
// names it.
type podMetric struct {
	name, help string
	group      string // of included_pod_metrics
	kind       runtimeapi.MetricType
	// extra are its labels beyond metricLabels.
	extra []string
	// container and pod give its values for a container and for a pod
	// (nil where it has none), one per set of extra label values.
	container func(*container.Record, *container.Stats) []metricValue
	pod       func(*sandbox.Stats, *cgroups.Stats) []metricValue
}

type metricValue struct {
	labels []string // the extra labels' values
	value  uint64
}

func one(v uint64) []metricValue { return []metricValue{{value: v}} }

// cpuSeconds is cumulative CPU in whole seconds: the CRI carries integers.
func cpuSeconds(st *cgroups.Stats) []metricValue {
	return []metricValue{{labels: []string{"total"}, value: st.CPUNanos / uint64(time.Second)}}
}

// netCounter is one counter of every interface but lo.
func netCounter(field func(d *proc.NetDev) uint64) func(*sandbox.Stats, *cgroups.Stats) []metricValue {
	return func(st *sandbox.Stats, _ *cgroups.Stats) []metricValue {
		var out []metricValue
		for i := range st.Network {
			if d := &st.Network[i]; d.Name != "lo" {
				out = append(out, metricValue{labels: []string{d.Name}, value: field(d)})
			}
		}
		return out
	}
}

var podMetrics = []podMetric{
	{name: "container_cpu_usage_seconds_total", help: "Cumulative cpu time consumed in seconds.", group: "cpu",
		kind: runtimeapi.MetricType_COUNTER, extra: []string{"cpu"},
		container: func(_ *container.Record, st *container.Stats) []metricValue { return cpuSeconds(&st.Stats) },
		pod:       func(_ *sandbox.Stats, st *cgroups.Stats) []metricValue { return cpuSeconds(st) }},
	{name: "container_memory_usage_bytes", help: "Current memory usage in bytes, including all memory regardless of when it was accessed.", group: "memory",
		kind:      runtimeapi.MetricType_GAUGE,
		container: func(_ *container.Record, st *container.Stats) []metricValue { return one(st.MemoryUsage) },
		pod:       func(_ *sandbox.Stats, st *cgroups.Stats) []metricValue { return one(st.MemoryUsage) }},
	{name: "container_memory_working_set_bytes", help: "Current working set in bytes.", group: "memory",
		kind:      runtimeapi.MetricType_GAUGE,
		container: func(_ *container.Record, st *container.Stats) []metricValue { return one(st.MemoryWorkingSet) },
		pod:       func(_ *sandbox.Stats, st *cgroups.Stats) []metricValue { return one(st.MemoryWorkingSet) }},
	{name: "container_memory_rss", help: "Size of RSS in bytes.", group: "memory",
		kind:      runtimeapi.MetricType_GAUGE,
		container: func(_ *container.Record, st *container.Stats) []metricValue { return one(st.MemoryRSS) },
		pod:       func(_ *sandbox.Stats, st *cgroups.Stats) []metricValue { return one(st.MemoryRSS) }},
	{name: "container_memory_swap", help: "Container swap usage in bytes.", group: "memory",
		kind:      runtimeapi.MetricType_GAUGE,
		container: func(_ *container.Record, st *container.Stats) []metricValue { return one(st.SwapUsage) }},
	{name: "container_spec_memory_limit_bytes", help: "Memory limit for the container.", group: "memory",
		kind:      runtimeapi.MetricType_GAUGE,
		container: func(_ *container.Record, st *container.Stats) []metricValue { return one(st.MemoryLimit) }},
	{name: "container_oom_events_total", help: "Count of out of memory events observed for the container.", group: "memory",
		kind:      runtimeapi.MetricType_COUNTER,
		container: func(_ *container.Record, st *container.Stats) []metricValue { return one(st.OOMKills) },
		pod:       func(_ *sandbox.Stats, st *cgroups.Stats) []metricValue { return one(st.OOMKills) }},
	{name: "container_fs_usage_bytes", help: "Number of bytes that are consumed by the container on this filesystem.", group: "disk",
		kind: runtimeapi.MetricType_GAUGE, extra: []string{"device"},
		container: func(_ *container.Record, st *container.Stats) []metricValue {
			return []metricValue{{labels: []string{"rootfs"}, value: st.WritableLayer.Bytes}}
		}},
	{name: "container_fs_inodes_used", help: "Number of inodes the container uses on this filesystem.", group: "disk",
		kind: runtimeapi.MetricType_GAUGE, extra: []string{"device"},
		container: func(_ *container.Record, st *container.Stats) []metricValue {
			return []metricValue{{labels: []string{"rootfs"}, value: st.WritableLayer.Inodes}}
		}},
	{name: "container_processes", help: "Number of processes running inside the container.", group: "process",
		kind:      runtimeapi.MetricType_GAUGE,
		container: func(_ *container.Record, st *container.Stats) []metricValue { return one(st.Processes) },
		pod:       func(_ *sandbox.Stats, st *cgroups.Stats) []metricValue { return one(st.Processes) }},
	{name: "container_start_time_seconds", help: "Start time of the container since unix epoch in seconds.", group: "process",
		kind: runtimeapi.MetricType_GAUGE,
		container: func(rec *container.Record, _ *container.Stats) []metricValue {
			if rec.StartedAt.IsZero() {
				return nil
			}
			return one(uint64(rec.StartedAt.Unix()))
		}},
	{name: "container_network_receive_bytes_total", help: "Cumulative count of bytes received.", group: "network",
		kind: runtimeapi.MetricType_COUNTER, extra: []string{"interface"}, pod: netCounter(func(d *proc.NetDev) uint64 { return d.RxBytes })},
	{name: "container_network_transmit_bytes_total", help: "Cumulative count of bytes transmitted.", group: "network",
		kind: runtimeapi.MetricType_COUNTER, extra: []string{"interface"}, pod: netCounter(func(d *proc.NetDev) uint64 { return d.TxBytes })},
	{name: "container_network_receive_packets_total", help: "Cumulative count of packets received.", group: "network",
		kind: runtimeapi.MetricType_COUNTER, extra: []string{"interface"}, pod: netCounter(func(d *proc.NetDev) uint64 { return d.RxPackets })},
	{name: "container_network_transmit_packets_total", help: "Cumulative count of packets transmitted.", group: "network",
		kind: runtimeapi.MetricType_COUNTER, extra: []string{"interface"}, pod: netCounter(func(d *proc.NetDev) uint64 { return d.TxPackets })},
	{name: "container_network_receive_errors_total", help: "Cumulative count of errors encountered while receiving.", group: "network",
		kind: runtimeapi.MetricType_COUNTER, extra: []string{"interface"}, pod: netCounter(func(d *proc.NetDev) uint64 { return d.RxErrors })},
	{name: "container_network_transmit_errors_total", help: "Cumulative count of errors encountered while transmitting.", group: "network",
		kind: runtimeapi.MetricType_COUNTER, extra: []string{"interface"}, pod: netCounter(func(d *proc.NetDev) uint64 { return d.TxErrors })},
}

// includedPodMetrics are the metrics of the configured groups.
func (s *Server) includedPodMetrics() []podMetric {
	groups := s.config().IncludedPodMetrics
	var out []podMetric
	for _, m := range podMetrics {
		if slices.Contains(groups, m.group) {
			out = append(out, m)
		}
	}
	return out
}

// ListMetricDescriptors describes the metrics ListPodSandboxMetrics
// reports: kubelet reads them once, at its start.
func (s *Server) ListMetricDescriptors(ctx context.Context, req *runtimeapi.ListMetricDescriptorsRequest) (*runtimeapi.ListMetricDescriptorsResponse, error) {
	var out []*runtimeapi.MetricDescriptor
	for _, m := range s.includedPodMetrics() {
		out = append(out, &runtimeapi.MetricDescriptor{Name: m.name, Help: m.help, LabelKeys: append(slices.Clone(metricLabels), m.extra...)})
	}
	return &runtimeapi.ListMetricDescriptorsResponse{Descriptors: out}, nil
}

// ListPodSandboxMetrics reports the metrics of every pod and its
// containers, read now (no timestamp: kubelet then takes them as fresh).
func (s *Server) ListPodSandboxMetrics(ctx context.Context, req *runtimeapi.ListPodSandboxMetricsRequest) (*runtimeapi.ListPodSandboxMetricsResponse, error) {
	return &runtimeapi.ListPodSandboxMetricsResponse{PodMetrics: s.podSandboxMetrics()}, nil
}

// StreamPodSandboxMetrics is ListPodSandboxMetrics in batches.
func (s *Server) StreamPodSandboxMetrics(req *runtimeapi.StreamPodSandboxMetricsRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamPodSandboxMetricsResponse]) error {
	items := s.podSandboxMetrics()
	return sendBatches(items, func(b []*runtimeapi.PodSandboxMetrics) *runtimeapi.StreamPodSandboxMetricsResponse {
		return &runtimeapi.StreamPodSandboxMetricsResponse{PodSandboxMetrics: b}
	}, stream.Send)
}

func (s *Server) podSandboxMetrics() []*runtimeapi.PodSandboxMetrics {
	metrics := s.includedPodMetrics()
	out := []*runtimeapi.PodSandboxMetrics{}
	for _, rec := range s.sandboxes.List() {
		st := s.sandboxes.StatsOf(&rec)
		pm := &runtimeapi.PodSandboxMetrics{PodSandboxId: rec.ID}
		podLabels := []string{"", rec.ID, "", "", rec.Config.Namespace, rec.Config.Name}
		u := s.podUsage(&rec, &st)
		for i := range u.containers {
			c, cs := &u.containers[i], &u.stats[i]
			labels := []string{c.Config.Name, c.ID, c.Image, c.Name, rec.Config.Namespace, rec.Config.Name}
			cm := &runtimeapi.ContainerMetrics{ContainerId: c.ID}
			for _, m := range metrics {
				if m.container != nil {
					cm.Metrics = append(cm.Metrics, criMetrics(&m, labels, m.container(c, cs))...)
				}
			}
			pm.ContainerMetrics = append(pm.ContainerMetrics, cm)
		}
		for _, m := range metrics {
			if m.pod != nil {
				pm.Metrics = append(pm.Metrics, criMetrics(&m, podLabels, m.pod(&st, &u.pod))...)
			}
		}
		out = append(out, pm)
	}
	return out
}

func criMetrics(m *podMetric, labels []string, values []metricValue) []*runtimeapi.Metric {
	out := make([]*runtimeapi.Metric, 0, len(values))
	for _, v := range values {
		out = append(out, &runtimeapi.Metric{
			Name:        m.name,
			MetricType:  m.kind,
			LabelValues: append(slices.Clone(labels), v.labels...),
			Value:       u64(v.value),
		})
	}
	return out
}
