package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// putImage stores a registry's (or an OCI layout's) image: its manifest
// is bounded before anything it names is read (the config is read whole
// into memory; each layer is a directory and an overlay lower dir).
func (s *Store) putImage(ctx context.Context, img v1.Image, repoTags, repoDigests []string) (*Image, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	if m.Config.Size > maxConfigSize {
		return nil, fmt.Errorf("%w: the image config is %d bytes, at most %d", ErrTooLarge, m.Config.Size, maxConfigSize)
	}
	if len(m.Layers) > maxLayers {
		return nil, fmt.Errorf("%w: the image has %d layers, at most %d", ErrTooLarge, len(m.Layers), maxLayers)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	if len(layers) != len(m.Layers) {
		return nil, fmt.Errorf("image has %d layers but its manifest lists %d", len(layers), len(m.Layers))
	}
	blobs := make([]sizedBlob, len(layers))
	for i, l := range layers {
		blobs[i] = sizedBlob{open: l.Compressed, size: m.Layers[i].Size}
	}
	return s.put(ctx, rawConfig, blobs, repoTags, repoDigests)
}

// sizedBlob is a layer to store and its size as the image declares it
// (-1: its size unpacked counts).
type sizedBlob struct {
	open blob
	size int64
}

// put stores an image under the given names: its layers (each unpacked
// once, verified against the config's diff IDs), then its record.
func (s *Store) put(ctx context.Context, rawConfig []byte, layers []sizedBlob, repoTags, repoDigests []string) (*Image, error) {
	if len(rawConfig) > maxConfigSize {
		return nil, fmt.Errorf("%w: the image config is %d bytes, at most %d", ErrTooLarge, len(rawConfig), maxConfigSize)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	if len(layers) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("image has %d layers but its config lists %d", len(layers), len(cfg.RootFS.DiffIDs))
	}
	if len(layers) > maxLayers {
		return nil, fmt.Errorf("%w: the image has %d layers, at most %d", ErrTooLarge, len(layers), maxLayers)
	}
	diffIDs := make([]string, len(layers))
	for i, d := range cfg.RootFS.DiffIDs {
		diffIDs[i] = d.String()
	}
	release := s.lease(diffIDs)
	defer release()

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(layerJobs)
	for i, l := range layers {
		g.Go(func() error { return s.unpackLayer(gctx, l.open, diffIDs[i]) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var size uint64
	for i, l := range layers {
		if l.size >= 0 {
			size += uint64(l.size)
		} else {
			size += s.layerUsage(diffIDs[i]).Bytes
		}
	}
	sum := sha256.Sum256(rawConfig)
	return s.add(&Image{
		ID:          "sha256:" + hex.EncodeToString(sum[:]),
		Layers:      diffIDs,
		Size:        size,
		Config:      rawConfig,
		RepoTags:    repoTags,
		RepoDigests: repoDigests,
		Pulled:      time.Now().UTC(),
	})
}
