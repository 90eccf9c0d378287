package server

import (
	"context"
	"path/filepath"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/cgroups"
)

// ContainerStats reports a container's CPU, memory, swap and pressure from
// its cgroup, and what it wrote into its root filesystem.
func (s *Server) ContainerStats(ctx context.Context, req *runtimeapi.ContainerStatsRequest) (*runtimeapi.ContainerStatsResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	rec, st, err := s.containers.Stats(req.GetContainerId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.ContainerStatsResponse{Stats: s.criContainerStats(&rec, st)}, nil
}

func (s *Server) criContainerStats(rec *container.Record, st container.Stats) *runtimeapi.ContainerStats {
	ts := st.Timestamp.UnixNano()
	cpu := criCPU(&st.Stats)
	if st.HasCPURate {
		cpu.UsageNanoCores = u64(st.CPUNanoCores)
	}
	return &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{
			Id:          rec.ID,
			Metadata:    criContainerMetadata(&rec.Config),
			Labels:      rec.Config.Labels,
			Annotations: rec.Config.Annotations,
		},
		Cpu:    cpu,
		Memory: criMemory(&st.Stats),
		Swap:   criSwap(&st.Stats),
		Io:     &runtimeapi.IoUsage{Timestamp: ts, Psi: criPSI(st.IOPressure)},
		WritableLayer: &runtimeapi.FilesystemUsage{
			Timestamp:  st.WritableLayerAt.UnixNano(),
			FsId:       s.containerFsID(),
			UsedBytes:  u64(st.WritableLayer.Bytes),
			InodesUsed: u64(st.WritableLayer.Inodes),
		},
	}
}

// containerFsID names the filesystem of the containers' writable layers:
// the containers dir under berth's root.
func (s *Server) containerFsID() *runtimeapi.FilesystemIdentifier {
	return &runtimeapi.FilesystemIdentifier{Mountpoint: filepath.Join(s.config().Root, "containers")}
}

func criCPU(st *cgroups.Stats) *runtimeapi.CpuUsage {
	return &runtimeapi.CpuUsage{
		Timestamp:            st.Timestamp.UnixNano(),
		UsageCoreNanoSeconds: u64(st.CPUNanos),
		Psi:                  criPSI(st.CPUPressure),
	}
}

func criMemory(st *cgroups.Stats) *runtimeapi.MemoryUsage {
	m := &runtimeapi.MemoryUsage{
		Timestamp:       st.Timestamp.UnixNano(),
		WorkingSetBytes: u64(st.MemoryWorkingSet),
		UsageBytes:      u64(st.MemoryUsage),
		RssBytes:        u64(st.MemoryRSS),
		PageFaults:      u64(st.PageFaults),
		MajorPageFaults: u64(st.MajorPageFaults),
		Psi:             criPSI(st.MemoryPressure),
	}
	// Available is the limit less the working set: there is none without a
	// limit (as cAdvisor reports it).
	if st.MemoryLimit > 0 {
		m.AvailableBytes = u64(st.MemoryLimit - min(st.MemoryLimit, st.MemoryWorkingSet))
	}
	return m
}

func criSwap(st *cgroups.Stats) *runtimeapi.SwapUsage {
	sw := &runtimeapi.SwapUsage{Timestamp: st.Timestamp.UnixNano(), SwapUsageBytes: u64(st.SwapUsage)}
	if st.SwapLimit > 0 {
		sw.SwapAvailableBytes = u64(st.SwapLimit - min(st.SwapLimit, st.SwapUsage))
	}
	return sw
}

func criPSI(p *cgroups.Pressure) *runtimeapi.PsiStats {
	if p == nil {
		return nil
	}
	data := func(d cgroups.PressureData) *runtimeapi.PsiData {
		return &runtimeapi.PsiData{Total: d.TotalNanos, Avg10: d.Avg10, Avg60: d.Avg60, Avg300: d.Avg300}
	}
	return &runtimeapi.PsiStats{Some: data(p.Some), Full: data(p.Full)}
}

func u64(v uint64) *runtimeapi.UInt64Value { return &runtimeapi.UInt64Value{Value: v} }
