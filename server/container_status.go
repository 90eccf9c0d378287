package server

import (
	"context"
	"encoding/json"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/oci"
)

// ContainerStatus reports a container's state, times, exit, image, mounts,
// log path and resources; verbose adds its pid and spec location.
func (s *Server) ContainerStatus(ctx context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	c, err := s.containers.Get(req.GetContainerId())
	if err != nil {
		return nil, toStatus(err)
	}
	rec := c.Snapshot()
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
		Mounts:      cfg.GetMounts(),
		LogPath:     rec.LogPath,
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
	resp := &runtimeapi.ContainerStatusResponse{Status: st}
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
