package server

import (
	"context"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/trace"
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
	if steps, err := s.containers.Startup(req.GetContainerId()); err == nil {
		if st, ok := steps.Find(container.StartStep); ok {
			recordStart(ctx, containerStartSteps, trace.Steps{st}, "berth.container", req.GetContainerId())
		}
	}
	return &runtimeapi.StartContainerResponse{}, nil
}
