package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
)

// Attach returns a single-use URL at which the client attaches to a running
// container's main process.
func (s *Server) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	if _, err := s.runningContainer(req.GetContainerId()); err != nil {
		return nil, err
	}
	return s.stream.GetAttach(req)
}

// runningContainer checks a streaming request's container exists and runs.
func (s *Server) runningContainer(id string) (container.Record, error) {
	if id == "" {
		return container.Record{}, errNoContainerID
	}
	rec, err := s.containers.Running(id)
	return rec, toStatus(err)
}
