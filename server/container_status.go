package server

import (
	"context"
	"encoding/json"
	"path/filepath"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/oci"
)

// ContainerStatus reports a container's state, times, exit, image, mounts,
// log path, resources and stop signal; verbose adds its pid and spec
// location.
func (s *Server) ContainerStatus(ctx context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	c, err := s.containers.Get(req.GetContainerId())
	if err != nil {
		return nil, toStatus(err)
	}
	rec := c.Snapshot()
	resp := &runtimeapi.ContainerStatusResponse{Status: containerStatus(rec)}
	if req.GetVerbose() {
		info, err := json.Marshal(map[string]any{
			"pid": rec.Pid, "conmonPid": rec.ConmonPid, "sandboxID": rec.SandboxID,
			"runtimeHandler": rec.Handler, "bundle": rec.Bundle,
		})
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": string(info)}
	}
	return resp, nil
}

// containerStatus is the CRI status of a container's record.
func containerStatus(rec oci.Record) *runtimeapi.ContainerStatus {
	cfg := rec.CRIConfig()
	st := &runtimeapi.ContainerStatus{
		Id:          rec.ID,
		Metadata:    cfg.GetMetadata(),
		State:       criContainerState(rec.State),
		CreatedAt:   rec.CreatedAt.UnixNano(),
		Image:       &runtimeapi.ImageSpec{Image: rec.Image},
		ImageRef:    rec.ImageRef,
		ImageId:     rec.ImageID,
		ExitCode:    rec.ExitCode,
		Reason:      rec.Reason,
		Message:     rec.Message,
		Labels:      cfg.GetLabels(),
		Annotations: cfg.GetAnnotations(),
		Mounts:      statusMounts(cfg.GetMounts(), rec.ImageVolumes),
		LogPath:     rec.LogPath,
		StopSignal:  oci.CRIStopSignal(rec.StopSignal),
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
	if res := rec.CRIResources(); res != nil {
		st.Resources = &runtimeapi.ContainerResources{Linux: res}
	}
	return st
}

// statusMounts are the container's CRI mounts as ContainerStatus reports
// them: an image volume names the image it mounted by ID (as CRI-O does),
// so kubelet's ImageStatus of it finds that image even if its tag moved.
func statusMounts(mounts []*runtimeapi.Mount, vols []oci.ImageVolume) []*runtimeapi.Mount {
	out := make([]*runtimeapi.Mount, len(mounts))
	for i, m := range mounts {
		out[i] = m
		if m.GetImage().GetImage() == "" {
			continue
		}
		for _, v := range vols {
			if filepath.Clean(v.ContainerPath) == filepath.Clean(m.GetContainerPath()) {
				m = proto.Clone(m).(*runtimeapi.Mount)
				m.Image.Image = v.ImageID
				out[i] = m
				break
			}
		}
	}
	return out
}

func criContainerState(s oci.State) runtimeapi.ContainerState {
	switch s {
	case oci.Created:
		return runtimeapi.ContainerState_CONTAINER_CREATED
	case oci.Running:
		return runtimeapi.ContainerState_CONTAINER_RUNNING
	case oci.Exited:
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
