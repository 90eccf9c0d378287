package server

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StopContainer stops a container: its stop signal, then SIGKILL after the
// timeout (0 kills at once). Stopping it again is fine.
func (s *Server) StopContainer(ctx context.Context, req *runtimeapi.StopContainerRequest) (*runtimeapi.StopContainerResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	timeout := time.Duration(max(req.GetTimeout(), 0)) * time.Second
	if err := s.containers.Stop(ctx, req.GetContainerId(), timeout); err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.StopContainerResponse{}, nil
}
