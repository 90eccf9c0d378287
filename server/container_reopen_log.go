package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ReopenContainerLog makes the container's monitor reopen its log file
// after kubelet rotated it.
func (s *Server) ReopenContainerLog(ctx context.Context, req *runtimeapi.ReopenContainerLogRequest) (*runtimeapi.ReopenContainerLogResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	if err := s.containers.ReopenLog(req.GetContainerId()); err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.ReopenContainerLogResponse{}, nil
}
