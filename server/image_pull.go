package server

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/image"
)

// PullImage pulls an image (mirrors first) and returns its ID. Concurrent
// pulls of one image share one download; the caller's deadline is honoured.
func (s *Server) PullImage(ctx context.Context, req *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" {
		return nil, invalid("image reference is empty")
	}
	a := req.GetAuth()
	start := time.Now()
	img, err := s.puller.Pull(ctx, ref, image.Auth{
		Username:      a.GetUsername(),
		Password:      a.GetPassword(),
		Auth:          a.GetAuth(),
		IdentityToken: a.GetIdentityToken(),
		RegistryToken: a.GetRegistryToken(),
	})
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		err = toStatus(err)
		observePull(0, start, err)
		return nil, err
	}
	observePull(img.Size, start, nil)
	return &runtimeapi.PullImageResponse{ImageRef: img.ID}, nil
}
