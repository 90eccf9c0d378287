package registry

import (
	"archive/tar"
	"io"
	"path"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Each hostile image is what it claims to be, just past berth's bounds.
func TestHostileImages(t *testing.T) {
	start := time.Now()
	images, err := Hostile(busyboxRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	oversized, err := Oversized(busyboxRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	images = append(images, oversized...)
	t.Logf("built %d hostile images in %s", len(images), time.Since(start).Round(time.Millisecond))
	byRef := map[string]Image{}
	for _, img := range images {
		byRef[img.Refs[0]] = img
	}
	top := func(ref string) map[string]*tar.Header {
		t.Helper()
		img, ok := byRef[ref]
		if !ok {
			t.Fatalf("no image %s", ref)
		}
		layers, err := img.Image.Layers()
		if err != nil {
			t.Fatal(err)
		}
		return layerHeaders(t, layers[len(layers)-1])
	}
	if h := top(FIFOPasswdImage)["etc/passwd"]; h == nil || h.Typeflag != tar.TypeFifo {
		t.Errorf("%s: /etc/passwd is %+v, want a FIFO", FIFOPasswdImage, h)
	}
	if h := top(DeviceGroupImage)["etc/group"]; h == nil || h.Typeflag != tar.TypeChar || h.Devmajor != 1 || h.Devminor != 5 {
		t.Errorf("%s: /etc/group is %+v, want the character device 1:5", DeviceGroupImage, h)
	}
	if h := top(EscapingPasswd)["etc/passwd"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "/proc/self/root/etc/passwd" {
		t.Errorf("%s: /etc/passwd is %+v, want a symlink to the host's", EscapingPasswd, h)
	}
	if m, err := byRef[TooManyLayersImage].Image.Manifest(); err != nil || len(m.Layers) != berthMaxLayers+1 {
		t.Errorf("%s: manifest %v, want %d layers", TooManyLayersImage, err, berthMaxLayers+1)
	}
	if m, err := byRef[HugeConfigImage].Image.Manifest(); err != nil || m.Config.Size <= berthMaxConfigSize {
		t.Errorf("%s: manifest %v, want a config over %d bytes", HugeConfigImage, err, berthMaxConfigSize)
	}
}

// layerHeaders reads the tar headers of a layer, by clean name.
func layerHeaders(t *testing.T, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[strings.Trim(path.Clean(h.Name), "/")] = h
	}
}
