package server

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ExecSync runs a command in a running container and returns its output
// and exit code; past the timeout the command is killed (DeadlineExceeded).
func (s *Server) ExecSync(ctx context.Context, req *runtimeapi.ExecSyncRequest) (*runtimeapi.ExecSyncResponse, error) {
	if req.GetContainerId() == "" {
		return nil, errNoContainerID
	}
	timeout := time.Duration(max(req.GetTimeout(), 0)) * time.Second
	res, err := s.containers.ExecSync(ctx, req.GetContainerId(), req.GetCmd(), timeout)
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.ExecSyncResponse{Stdout: res.Stdout, Stderr: res.Stderr, ExitCode: res.ExitCode}, nil
}
