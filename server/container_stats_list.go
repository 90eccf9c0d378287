package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListContainerStats reports the stats of the containers that match the
// filter (ID or prefix, pod, labels).
func (s *Server) ListContainerStats(ctx context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	f := req.GetFilter()
	// The same fields as ListContainers' filter, without the state.
	filter := &runtimeapi.ContainerFilter{Id: f.GetId(), PodSandboxId: f.GetPodSandboxId(), LabelSelector: f.GetLabelSelector()}
	out := []*runtimeapi.ContainerStats{}
	for _, rec := range s.containers.List() {
		if !containerMatches(&rec, filter) {
			continue
		}
		out = append(out, criContainerStats(&rec, s.containers.CgroupStats(&rec)))
	}
	return &runtimeapi.ListContainerStatsResponse{Stats: out}, nil
}
