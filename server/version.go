package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/version"
)

// kubeletAPIVersion is the version of the kubelet runtime API berth speaks.
const kubeletAPIVersion = "0.1.0"

// Version reports berth's name and version and the CRI API version.
func (s *Server) Version(ctx context.Context, req *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{
		Version:           kubeletAPIVersion,
		RuntimeName:       "berth",
		RuntimeVersion:    version.Version(),
		RuntimeApiVersion: "v1",
	}, nil
}
