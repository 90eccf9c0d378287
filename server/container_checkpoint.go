package server

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CheckpointContainer writes a checkpoint archive of a running container
// (CRIU through the OCI runtime) to the request's location, for kubelet's
// forensic container checkpointing; the container keeps running. A host
// where CRIU is missing or cannot run is FailedPrecondition.
func (s *Server) CheckpointContainer(ctx context.Context, req *runtimeapi.CheckpointContainerRequest) (*runtimeapi.CheckpointContainerResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	if req.GetLocation() == "" {
		return nil, invalid("a location for the checkpoint archive is required")
	}
	if req.GetTimeout() < 0 {
		return nil, invalid("timeout must not be negative, got %d", req.GetTimeout())
	}
	if t := req.GetTimeout(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(t)*time.Second)
		defer cancel()
	}
	if err := s.containers.Checkpoint(ctx, req.GetContainerId(), req.GetLocation()); err != nil {
		return nil, toStatus(err) // a runtime cut off by the timeout is DeadlineExceeded
	}
	return &runtimeapi.CheckpointContainerResponse{}, nil
}
