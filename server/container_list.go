package server

import (
	"context"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
)

// ListContainers lists the containers that match the filter (ID or ID
// prefix, state, pod, labels), oldest first.
func (s *Server) ListContainers(ctx context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	return &runtimeapi.ListContainersResponse{Containers: s.listContainers(req.GetFilter())}, nil
}

func (s *Server) listContainers(f *runtimeapi.ContainerFilter) []*runtimeapi.Container {
	out := []*runtimeapi.Container{}
	for _, rec := range s.containers.List() {
		if !containerMatches(&rec, f) {
			continue
		}
		out = append(out, &runtimeapi.Container{
			Id:           rec.ID,
			PodSandboxId: rec.SandboxID,
			Metadata:     criContainerMetadata(&rec.Config),
			Image:        &runtimeapi.ImageSpec{Image: rec.Image},
			ImageRef:     rec.ImageRef,
			ImageId:      rec.ImageID,
			State:        criContainerState(rec.State),
			CreatedAt:    rec.CreatedAt.UnixNano(),
			Labels:       rec.Config.Labels,
			Annotations:  rec.Config.Annotations,
		})
	}
	return out
}

func containerMatches(rec *container.Record, f *runtimeapi.ContainerFilter) bool {
	if f == nil {
		return true
	}
	if f.GetId() != "" && !strings.HasPrefix(rec.ID, f.GetId()) {
		return false
	}
	if f.GetPodSandboxId() != "" && !strings.HasPrefix(rec.SandboxID, f.GetPodSandboxId()) {
		return false
	}
	if st := f.GetState(); st != nil && st.GetState() != criContainerState(rec.State) {
		return false
	}
	return labelsMatch(rec.Config.Labels, f.GetLabelSelector())
}
