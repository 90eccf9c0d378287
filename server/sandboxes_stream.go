package server

import (
	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StreamPodSandboxes is ListPodSandbox in batches, for nodes with many pods.
func (s *Server) StreamPodSandboxes(req *runtimeapi.StreamPodSandboxesRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamPodSandboxesResponse]) error {
	items := s.listSandboxes(req.GetFilter())
	for start := 0; start < len(items); start += streamBatch {
		end := min(start+streamBatch, len(items))
		if err := stream.Send(&runtimeapi.StreamPodSandboxesResponse{PodSandboxes: items[start:end]}); err != nil {
			return err
		}
	}
	return nil
}
