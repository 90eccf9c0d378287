package server

import (
	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// streamBatch is how many items one message of a Stream* RPC carries, so
// no message nears gRPC's size limit however many the node has.
const streamBatch = 500

// sendBatches sends items streamBatch at a time, each batch wrapped in its
// response message.
func sendBatches[T any, R any](items []T, wrap func([]T) *R, send func(*R) error) error {
	for start := 0; start < len(items); start += streamBatch {
		if err := send(wrap(items[start:min(start+streamBatch, len(items))])); err != nil {
			return err
		}
	}
	return nil
}

// StreamImages is ListImages in batches, for nodes with many images.
func (s *Server) StreamImages(req *runtimeapi.StreamImagesRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamImagesResponse]) error {
	images, err := s.listImages(req.GetFilter())
	if err != nil {
		return err
	}
	return sendBatches(images, func(b []*runtimeapi.Image) *runtimeapi.StreamImagesResponse {
		return &runtimeapi.StreamImagesResponse{Images: b}
	}, stream.Send)
}
