package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdateContainerResources resizes a container in place.
func (s *Server) UpdateContainerResources(ctx context.Context, req *runtimeapi.UpdateContainerResourcesRequest) (*runtimeapi.UpdateContainerResourcesResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	if req.GetLinux() == nil {
		return nil, invalid("linux resources are required")
	}
	if err := s.containers.UpdateResources(ctx, req.GetContainerId(), specResources(req.GetLinux())); err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.UpdateContainerResourcesResponse{}, nil
}
