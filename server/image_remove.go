package server

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RemoveImage removes a tag (while the image has others) or the whole image.
// Removing an image that is not there succeeds.
func (s *Server) RemoveImage(ctx context.Context, req *runtimeapi.RemoveImageRequest) (*runtimeapi.RemoveImageResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" {
		return nil, invalid("image reference is empty")
	}
	if err := s.images.Remove(ref, s.containers.InUse); err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.RemoveImageResponse{}, nil
}
