package image

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// benchLayer is a gzip layer of files of incompressible bytes, so what the
// benchmark moves over the wire is what it unpacks.
func benchLayer(b *testing.B, seed uint64, files, fileSize int) v1.Layer {
	b.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	chunk := make([]byte, fileSize)
	for i := range files {
		for j := range chunk {
			chunk[j] = byte(rng.Uint32())
		}
		hdr := &tar.Header{Name: fmt.Sprintf("layer%d/file%d", seed, i), Mode: 0o644, Size: int64(fileSize), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			b.Fatal(err)
		}
		if _, err := tw.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkPullMultiLayer pulls a 5-layer, ~200 MB image from a registry on
// 127.0.0.1 into an empty store: download + verify + unpack. The MB/s
// figure is compressed bytes pulled per second.
func BenchmarkPullMultiLayer(b *testing.B) {
	const layers, files, fileSize = 5, 10, 4 << 20 // 5 × 40 MiB
	var ls []v1.Layer
	var total int64
	for i := range layers {
		l := benchLayer(b, uint64(i+1), files, fileSize)
		n, _ := l.Size()
		total += n
		ls = append(ls, l)
	}
	reg := newTestRegistry(b, nil)
	repo := reg.push(b, "bench:1", testImage(b, v1.Config{}, ls...))
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s := newStore(b)
		p := NewPuller(s, nil, time.Minute)
		b.StartTimer()
		if _, err := p.Pull(context.Background(), repo+":1", Auth{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(s.Dir())
		b.StartTimer()
	}
}
