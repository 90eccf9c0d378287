package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/fsutil"
	"github.com/berth-dev/berth/internal/metrics"
	"github.com/moby/go-archive"
	"github.com/moby/go-archive/compression"
	"github.com/sirupsen/logrus"
	"github.com/vbatts/tar-split/tar/asm"
)

// blob opens a layer as it was sent: compressed (gzip, zstd...) or a plain
// tar; unpacking tells which.
type blob func() (io.ReadCloser, error)

// unpackLayer downloads one layer, verifies it while it streams (the
// compressed digest by go-containerregistry, the diff ID here) and unpacks it
// into a temporary directory that is renamed into place only when complete.
// Whiteouts become overlay whiteouts and opaque directories; go-archive
// extracts through an os.Root, so no entry, symlink or hardlink can write
// outside the layer directory.
func (s *Store) unpackLayer(ctx context.Context, layer blob, diffID string) error {
	if s.hasLayer(diffID) {
		metrics.ImageLayers.WithLabelValues("reused").Inc()
		return nil
	}
	ran := false // this call unpacked it; others waiting for it reuse it
	_, err, _ := s.unpacking.Do(diffID, func() (any, error) {
		ran = true
		if s.hasLayer(diffID) { // unpacked while this call waited
			metrics.ImageLayers.WithLabelValues("reused").Inc()
			return nil, nil
		}
		if err := s.unpackNewLayer(ctx, layer, diffID); err != nil {
			return nil, err
		}
		metrics.ImageLayers.WithLabelValues("unpacked").Inc()
		return nil, nil
	})
	if err == nil && !ran {
		metrics.ImageLayers.WithLabelValues("reused").Inc()
	}
	return err
}

// unpackNewLayer is unpackLayer's work, for a layer not in the store.
func (s *Store) unpackNewLayer(ctx context.Context, layer blob, diffID string) error {
	start := time.Now()
	hexID := strings.TrimPrefix(diffID, "sha256:")
	tmp, err := os.MkdirTemp(s.layersDir(), ".tmp-"+hexID+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed into place

	rc, err := layer()
	if err != nil {
		return fmt.Errorf("fetch layer %s: %w", diffID, err)
	}
	defer rc.Close()
	plain, err := compression.DecompressStream(ctxReader{ctx, rc})
	if err != nil {
		return fmt.Errorf("decompress layer %s: %w", diffID, err)
	}
	defer plain.Close()
	h := sha256.New()
	// The tar's layout (headers, padding; file contents by name and
	// checksum) is kept beside the layer, so an export rebuilds the very
	// bytes of the diff ID from the unpacked files.
	split, err := newTarSplitWriter(s.tarSplitPath(diffID))
	if err != nil {
		return err
	}
	defer split.abort()
	tarStream, recorded, err := asm.NewInputTarStreamWithDone(io.TeeReader(plain, h), split.packer, nil)
	if err != nil {
		return err
	}
	defer tarStream.Close()
	if err := archive.Unpack(tarStream, tmp, &archive.TarOptions{WhiteoutFormat: archive.OverlayWhiteoutFormat}); err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	// Read both streams to the end: the digest checks run at EOF.
	if _, err := io.Copy(io.Discard, tarStream); err != nil {
		return fmt.Errorf("fetch layer %s: %w", diffID, err)
	}
	if err := <-recorded; err != nil {
		return fmt.Errorf("layer %s: %w", diffID, err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("fetch layer %s: %w", diffID, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID {
		return fmt.Errorf("layer content is %s, the image config says %s", got, diffID)
	}
	if err := split.commit(); err != nil {
		return fmt.Errorf("layer %s: tar-split: %w", diffID, err)
	}
	usage, err := diskUsage(tmp)
	if err != nil {
		return err
	}
	logrus.WithFields(logrus.Fields{"layer": diffID, "bytes": usage.Bytes, "duration": time.Since(start)}).Debug("layer unpacked")
	if err := os.Rename(tmp, s.LayerDir(diffID)); err != nil {
		if s.hasLayer(diffID) {
			return nil
		}
		return err
	}
	if err := s.addLayer(diffID, usage); err != nil {
		// Unrecorded, the dir would be neither used nor replaced: the next
		// pull's rename onto it would fail until a restart cleaned it up.
		os.RemoveAll(s.LayerDir(diffID))
		return err
	}
	return nil
}

// ctxReader stops a download as soon as its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}

// diskUsage is what the unpacked layer at dir takes on disk.
func diskUsage(dir string) (layerUsage, error) {
	u, err := fsutil.DiskUsage(dir)
	return layerUsage{Bytes: u.Bytes, Inodes: u.Inodes}, err
}
