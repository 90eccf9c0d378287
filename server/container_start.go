package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StartContainer starts a created container.
func (s *Server) StartContainer(ctx context.Context, req *runtimeapi.StartContainerRequest) (*runtimeapi.StartContainerResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	if err := s.containers.Start(ctx, req.GetContainerId()); err != nil {
		return nil, toStatus(err)
	}
	if rec, err := s.containers.Status(req.GetContainerId()); err == nil && len(rec.Startup) > 0 {
		observeSteps(containerStartSteps, rec.Startup[len(rec.Startup)-1:]) // the start's own step
	}
	return &runtimeapi.StartContainerResponse{}, nil
}
