package server

import (
	"context"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListContainerStats reports the stats of the containers that match the
// filter (ID or prefix, pod, labels).
func (s *Server) ListContainerStats(ctx context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	return &runtimeapi.ListContainerStatsResponse{Stats: s.listContainerStats(req.GetFilter())}, nil
}

// StreamContainerStats is ListContainerStats in batches, for nodes with
// many containers.
func (s *Server) StreamContainerStats(req *runtimeapi.StreamContainerStatsRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamContainerStatsResponse]) error {
	items := s.listContainerStats(req.GetFilter())
	return sendBatches(items, func(b []*runtimeapi.ContainerStats) *runtimeapi.StreamContainerStatsResponse {
		return &runtimeapi.StreamContainerStatsResponse{ContainerStats: b}
	}, stream.Send)
}

func (s *Server) listContainerStats(f *runtimeapi.ContainerStatsFilter) []*runtimeapi.ContainerStats {
	// The same fields as ListContainers' filter, without the state.
	filter := &runtimeapi.ContainerFilter{Id: f.GetId(), PodSandboxId: f.GetPodSandboxId(), LabelSelector: f.GetLabelSelector()}
	out := []*runtimeapi.ContainerStats{}
	for _, rec := range s.containers.List() {
		if !containerMatches(&rec, filter) {
			continue
		}
		out = append(out, s.criContainerStats(&rec, s.containers.StatsOf(&rec)))
	}
	return out
}
