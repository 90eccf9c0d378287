package server

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ImageFsInfo reports what the image layers use on the image filesystem,
// and what the containers' writable layers use, so that kubelet's
// ephemeral-storage eviction sees what containers write. The image figures
// are kept up to date at pull and removal, the containers' as last measured
// by their stats: no disk walk here.
func (s *Server) ImageFsInfo(ctx context.Context, req *runtimeapi.ImageFsInfoRequest) (*runtimeapi.ImageFsInfoResponse, error) {
	bytes, inodes := s.images.Usage()
	layers := s.containers.WritableLayers()
	return &runtimeapi.ImageFsInfoResponse{
		ContainerFilesystems: []*runtimeapi.FilesystemUsage{{
			Timestamp:  time.Now().UnixNano(),
			FsId:       s.containerFsID(),
			UsedBytes:  u64(layers.Bytes),
			InodesUsed: u64(layers.Inodes),
		}},
		ImageFilesystems: []*runtimeapi.FilesystemUsage{{
			Timestamp:  time.Now().UnixNano(),
			FsId:       &runtimeapi.FilesystemIdentifier{Mountpoint: s.images.Dir()},
			UsedBytes:  &runtimeapi.UInt64Value{Value: bytes},
			InodesUsed: &runtimeapi.UInt64Value{Value: inodes},
		}},
	}, nil
}
