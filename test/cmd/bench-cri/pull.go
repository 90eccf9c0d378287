package main

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// pullImageRef is the bench's own image: random, so incompressible, bytes
// in pullLayers layers of pullLayerSize each.
const (
	pullImageRef  = "bench.berth.test/random:v1"
	pullLayers    = 4
	pullLayerSize = 32 << 20
)

func pullImage() (v1.Image, error) { return random.Image(pullLayerSize, pullLayers) }

// Pull is the image pull and unpack rate.
type Pull struct {
	Image     string  `json:"image"`
	MiB       float64 `json:"compressed_mib"`
	Runs      int     `json:"runs"`
	P50MS     float64 `json:"p50_ms"`
	MiBPerSec float64 `json:"mib_per_second"`
}

// pull pulls ref runs times (removing it in between, so each pull fetches
// and unpacks every layer) and reports the median rate.
func (c *cri) pull(ctx context.Context, ref string, img v1.Image, runs int) (Pull, error) {
	m, err := img.Manifest()
	if err != nil {
		return Pull{}, err
	}
	var size int64
	for _, l := range m.Layers {
		size += l.Size
	}
	var durations []time.Duration
	for range runs {
		start := time.Now()
		if _, err := c.img.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}}); err != nil {
			return Pull{}, fmt.Errorf("PullImage %s: %w", ref, err)
		}
		durations = append(durations, time.Since(start))
		if _, err := c.img.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}}); err != nil {
			return Pull{}, fmt.Errorf("RemoveImage %s: %w", ref, err)
		}
	}
	l := summarise("pull", durations)
	mib := float64(size) / (1 << 20)
	return Pull{Image: ref, MiB: mib, Runs: runs, P50MS: l.P50, MiBPerSec: mib / (l.P50 / 1000)}, nil
}
