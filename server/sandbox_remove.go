package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RemovePodSandbox removes the pod and everything it holds. Removing an
// unknown pod is fine: kubelet retries, and must not be stuck on it.
func (s *Server) RemovePodSandbox(ctx context.Context, req *runtimeapi.RemovePodSandboxRequest) (*runtimeapi.RemovePodSandboxResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, errNoSandboxID
	}
	if err := s.sandboxes.Remove(ctx, req.GetPodSandboxId()); err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.RemovePodSandboxResponse{}, nil
}
