package server

import (
	"context"
	"time"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/trace"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StartContainer starts a created container.
func (s *Server) StartContainer(ctx context.Context, req *runtimeapi.StartContainerRequest) (*runtimeapi.StartContainerResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	began := time.Now()
	if err := s.containers.Start(ctx, req.GetContainerId()); err != nil {
		return nil, toStatus(err)
	}
	// The runtime's create ended after CreateContainer returned (it goes
	// on in the background): its step is this call's, with the start's;
	// the call's span shows the part of it the call waited for.
	if steps, err := s.containers.Startup(req.GetContainerId()); err == nil {
		var mine trace.Steps
		for _, name := range []string{container.RuntimeCreateStep, container.StartStep} {
			if st, ok := steps.Find(name); ok {
				mine = append(mine, st)
			}
		}
		recordStart(ctx, containerStartSteps, mine, "berth.container", req.GetContainerId(), began)
	}
	return &runtimeapi.StartContainerResponse{}, nil
}
