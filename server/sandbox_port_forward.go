package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PortForward returns a single-use URL at which the client forwards TCP
// ports into the pod's network namespace.
func (s *Server) PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, errNoSandboxID
	}
	if _, err := s.sandboxes.Status(req.GetPodSandboxId()); err != nil {
		return nil, toStatus(err)
	}
	return s.stream.GetPortForward(req)
}
