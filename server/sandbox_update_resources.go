package server

import (
	"context"

	"github.com/sirupsen/logrus"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/oci"
)

// UpdatePodSandboxResources applies pod-level resources (kubelet's pod
// resize) to the pod's cgroup.
func (s *Server) UpdatePodSandboxResources(ctx context.Context, req *runtimeapi.UpdatePodSandboxResourcesRequest) (*runtimeapi.UpdatePodSandboxResourcesResponse, error) {
	if req.GetResources() == nil {
		return nil, invalid("resources are required")
	}
	res, err := oci.LinuxResources(req.GetResources(), s.cgroups, logrus.WithField("sandbox", req.GetPodSandboxId()))
	if err != nil {
		return nil, err
	}
	if err := s.sandboxes.UpdateResources(req.GetPodSandboxId(), res); err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.UpdatePodSandboxResourcesResponse{}, nil
}
