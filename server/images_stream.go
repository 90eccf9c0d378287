package server

import (
	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// streamBatch is how many images one StreamImages message carries, so no
// message nears gRPC's size limit however many images the node has.
const streamBatch = 500

// StreamImages is ListImages in batches, for nodes with many images.
func (s *Server) StreamImages(req *runtimeapi.StreamImagesRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamImagesResponse]) error {
	images, err := s.listImages(req.GetFilter())
	if err != nil {
		return err
	}
	for start := 0; start < len(images); start += streamBatch {
		end := min(start+streamBatch, len(images))
		if err := stream.Send(&runtimeapi.StreamImagesResponse{Images: images[start:end]}); err != nil {
			return err
		}
	}
	return nil
}
