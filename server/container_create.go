package server

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/oci"
	"github.com/berth-dev/berth/sandbox"
)

// CreateContainer creates a container in a ready pod from a pulled image.
func (s *Server) CreateContainer(ctx context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	if req.GetConfig() == nil {
		return nil, invalid("container config is required")
	}
	pod, err := s.podOf(req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	id, err := s.containers.Create(ctx, pod, req.GetConfig())
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.CreateContainerResponse{ContainerId: id}, nil
}

// podOf is what a container needs to know of its (ready) pod.
func (s *Server) podOf(sandboxID string) (oci.Pod, error) {
	if sandboxID == "" {
		return oci.Pod{}, invalid("pod sandbox ID is required")
	}
	sb, err := s.sandboxes.Get(sandboxID)
	if err != nil {
		return oci.Pod{}, toStatus(err)
	}
	rec := sb.Snapshot()
	if rec.State != sandbox.Ready {
		return oci.Pod{}, status.Errorf(codes.FailedPrecondition, "pod sandbox %s is not ready", rec.ID)
	}
	ns := rec.Config.Namespaces
	return oci.Pod{
		ID:             rec.ID,
		Name:           rec.Config.Name,
		Namespace:      rec.Config.Namespace,
		UID:            rec.Config.UID,
		NetNS:          rec.NetNS,
		Namespaces:     rec.NamespacePaths(),
		HostNetwork:    ns.HostNetwork,
		HostIPC:        ns.HostIPC,
		HostPID:        ns.HostPID,
		SharedPID:      ns.SharedPID,
		UserNS:         ns.UserNS != nil,
		CgroupParent:   rec.Config.CgroupParent,
		HostnamePath:   rec.HostnamePath(),
		HostsPath:      rec.HostsPath(),
		ResolvConfPath: rec.ResolvConfPath(),
		ShmPath:        rec.ShmPath,
		LogDir:         rec.Config.LogDir,
		Privileged:     rec.Config.Privileged,
		Handler:        rec.Handler,
	}, nil
}
