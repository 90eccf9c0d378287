package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdatePodSandboxResources applies pod-level resources (kubelet's pod
// resize) to the pod's cgroup.
func (s *Server) UpdatePodSandboxResources(ctx context.Context, req *runtimeapi.UpdatePodSandboxResourcesRequest) (*runtimeapi.UpdatePodSandboxResourcesResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, errNoSandboxID
	}
	if req.GetResources() == nil {
		return nil, invalid("resources are required")
	}
	if err := s.sandboxes.UpdateResources(req.GetPodSandboxId(), specResources(req.GetResources())); err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.UpdatePodSandboxResourcesResponse{}, nil
}
