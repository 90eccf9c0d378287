package server

import (
	"context"
	"encoding/json"
	"path/filepath"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/spec"
)

// ContainerStatus reports a container's state, times, exit, image, mounts,
// log path, resources and stop signal; verbose adds its pid and spec
// location.
func (s *Server) ContainerStatus(ctx context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	rec, err := s.containers.Status(req.GetContainerId())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &runtimeapi.ContainerStatusResponse{Status: containerStatus(rec)}
	if req.GetVerbose() {
		info, err := json.Marshal(map[string]any{
			"pid": rec.Pid, "conmonPid": rec.ConmonPid, "sandboxID": rec.SandboxID,
			"runtimeHandler": rec.Handler, "bundle": rec.Bundle, "startup": rec.Startup,
		})
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": string(info)}
	}
	return resp, nil
}

// containerStatus is the CRI status of a container's record.
func containerStatus(rec container.Record) *runtimeapi.ContainerStatus {
	cfg := &rec.Config
	st := &runtimeapi.ContainerStatus{
		Id:          rec.ID,
		Metadata:    criContainerMetadata(cfg),
		State:       criContainerState(rec.State),
		CreatedAt:   rec.CreatedAt.UnixNano(),
		Image:       &runtimeapi.ImageSpec{Image: rec.Image},
		ImageRef:    rec.ImageRef,
		ImageId:     rec.ImageID,
		ExitCode:    rec.ExitCode,
		Reason:      rec.Reason,
		Message:     rec.Message,
		Labels:      cfg.Labels,
		Annotations: cfg.Annotations,
		Mounts:      statusMounts(cfg.Mounts, rec.ImageVolumes),
		LogPath:     rec.LogPath,
		StopSignal:  criStopSignal(rec.StopSignal),
		User: &runtimeapi.ContainerUser{Linux: &runtimeapi.LinuxContainerUser{
			Uid: int64(rec.User.UID), Gid: int64(rec.User.GID), SupplementalGroups: int64s(rec.User.Groups),
		}},
	}
	if !rec.StartedAt.IsZero() {
		st.StartedAt = rec.StartedAt.UnixNano()
	}
	if !rec.FinishedAt.IsZero() {
		st.FinishedAt = rec.FinishedAt.UnixNano()
	}
	if res := rec.Resources; res != nil {
		st.Resources = &runtimeapi.ContainerResources{Linux: criResources(res)}
	}
	return st
}

func criContainerMetadata(cfg *container.Config) *runtimeapi.ContainerMetadata {
	return &runtimeapi.ContainerMetadata{Name: cfg.Name, Attempt: cfg.Attempt}
}

// statusMounts are the container's mounts as ContainerStatus reports them:
// an image volume names the image it mounted by ID (as CRI-O does), so
// kubelet's ImageStatus of it finds that image even if its tag moved.
func statusMounts(mounts []spec.Mount, vols []container.ImageVolume) []*runtimeapi.Mount {
	out := make([]*runtimeapi.Mount, len(mounts))
	for i, m := range mounts {
		out[i] = criMount(&m)
		if !m.IsImage() {
			continue
		}
		for _, v := range vols {
			if filepath.Clean(v.ContainerPath) == filepath.Clean(m.ContainerPath) {
				out[i].Image.Image = v.ImageID
				break
			}
		}
	}
	return out
}

func criMount(m *spec.Mount) *runtimeapi.Mount {
	out := &runtimeapi.Mount{
		ContainerPath:     m.ContainerPath,
		HostPath:          m.HostPath,
		Readonly:          m.Readonly,
		RecursiveReadOnly: m.RecursiveReadOnly,
		SelinuxRelabel:    m.SELinuxRelabel,
		UidMappings:       criIDMappings(m.UIDMappings),
		GidMappings:       criIDMappings(m.GIDMappings),
		ImageSubPath:      m.ImageSubPath,
	}
	switch m.Propagation {
	case spec.PropagationHostToContainer:
		out.Propagation = runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
	case spec.PropagationBidirectional:
		out.Propagation = runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL
	}
	if m.IsImage() {
		out.Image = &runtimeapi.ImageSpec{Image: m.Image, UserSpecifiedImage: m.UserSpecifiedImage}
	}
	return out
}

func criIDMappings(in []spec.IDMapping) []*runtimeapi.IDMapping {
	var out []*runtimeapi.IDMapping
	for _, m := range in {
		out = append(out, &runtimeapi.IDMapping{ContainerId: m.ContainerID, HostId: m.HostID, Length: m.Size})
	}
	return out
}

func criResources(r *spec.Resources) *runtimeapi.LinuxContainerResources {
	out := &runtimeapi.LinuxContainerResources{
		CpuPeriod:              r.CPUPeriod,
		CpuQuota:               r.CPUQuota,
		CpuShares:              r.CPUShares,
		MemoryLimitInBytes:     r.MemoryLimit,
		MemorySwapLimitInBytes: r.MemorySwapLimit,
		OomScoreAdj:            r.OOMScoreAdj,
		CpusetCpus:             r.CpusetCpus,
		CpusetMems:             r.CpusetMems,
		Unified:                r.Unified,
	}
	for _, h := range r.Hugepages {
		out.HugepageLimits = append(out.HugepageLimits, &runtimeapi.HugepageLimit{PageSize: h.PageSize, Limit: h.Limit})
	}
	return out
}

func criContainerState(s container.State) runtimeapi.ContainerState {
	switch s {
	case container.Created:
		return runtimeapi.ContainerState_CONTAINER_CREATED
	case container.Running:
		return runtimeapi.ContainerState_CONTAINER_RUNNING
	case container.Exited:
		return runtimeapi.ContainerState_CONTAINER_EXITED
	}
	return runtimeapi.ContainerState_CONTAINER_UNKNOWN
}

func int64s(v []uint32) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
