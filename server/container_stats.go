package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/cgroups"
)

// ContainerStats reports a container's CPU and memory use from its cgroup.
func (s *Server) ContainerStats(ctx context.Context, req *runtimeapi.ContainerStatsRequest) (*runtimeapi.ContainerStatsResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	rec, st, err := s.containers.Stats(req.GetContainerId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.ContainerStatsResponse{Stats: criContainerStats(&rec, st)}, nil
}

func criContainerStats(rec *container.Record, st cgroups.Stats) *runtimeapi.ContainerStats {
	ts := st.Timestamp.UnixNano()
	return &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{
			Id:          rec.ID,
			Metadata:    criContainerMetadata(&rec.Config),
			Labels:      rec.Config.Labels,
			Annotations: rec.Config.Annotations,
		},
		Cpu: &runtimeapi.CpuUsage{
			Timestamp:            ts,
			UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: st.CPUNanos},
		},
		Memory: &runtimeapi.MemoryUsage{
			Timestamp:       ts,
			WorkingSetBytes: &runtimeapi.UInt64Value{Value: st.MemoryWorkingSet},
			UsageBytes:      &runtimeapi.UInt64Value{Value: st.MemoryUsage},
		},
	}
}
