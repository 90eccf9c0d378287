package server

import (
	"context"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListContainerStats reports the stats of the containers that match the
// filter (ID or prefix, pod, labels).
func (s *Server) ListContainerStats(ctx context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	f := req.GetFilter()
	out := []*runtimeapi.ContainerStats{}
	for _, rec := range s.containers.List() {
		if f.GetId() != "" && !strings.HasPrefix(rec.ID, f.GetId()) ||
			f.GetPodSandboxId() != "" && !strings.HasPrefix(rec.SandboxID, f.GetPodSandboxId()) ||
			!labelsMatch(rec.CRIConfig().GetLabels(), f.GetLabelSelector()) {
			continue
		}
		_, st, err := s.containers.Stats(rec.ID)
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, criContainerStats(&rec, st))
	}
	return &runtimeapi.ListContainerStatsResponse{Stats: out}, nil
}
