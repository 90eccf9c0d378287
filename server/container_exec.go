package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Exec returns a single-use URL at which the client runs a command in a
// running container with streams (and a terminal when asked).
func (s *Server) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	if _, err := s.runningContainer(req.GetContainerId()); err != nil {
		return nil, err
	}
	return s.stream.GetExec(req)
}
