//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/harness"
	"github.com/berth-dev/berth/test/registry"
)

// An image whose /etc/passwd or /etc/group is a FIFO, a device, or a
// symlink out of the rootfs cannot hang CreateContainer, make berth read
// the host's files, or leave anything behind: the create fails at once with
// InvalidArgument, frees its name, and the next create of that name works.
func TestHostileImageFilesRefused(t *testing.T) {
	f := newContainerFixture(t, "berth-it-hostile", "berthithostile", "10.124.20.0/24")
	b := f.b
	p := f.runPod(t, "hostile", nil)
	tests := []struct {
		image, why string
	}{
		{registry.FIFOPasswdImage, "not a regular file"},
		{registry.DeviceGroupImage, "not a regular file"},
		// Followed on the host, www-data would be the host's uid 33.
		{registry.EscapingPasswd, "www-data"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.image), func(t *testing.T) {
			pullImage(t, b, tt.image)
			cfg := containerConfig("hostile", "true")
			cfg.Image.Image = tt.image
			// Far longer than a refusal takes, far shorter than a hang.
			c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := b.Runtime().CreateContainer(c, &runtimeapi.CreateContainerRequest{
				PodSandboxId: p.id, Config: cfg, SandboxConfig: p.cfg,
			})
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("CreateContainer = %v, want InvalidArgument naming %q", err, tt.why)
			}
			if got := listContainers(t, b, nil); len(got) != 0 {
				t.Errorf("a refused create left %d containers listed", len(got))
			}
			// The name is free again.
			id := runContainer(t, b, p, containerConfig("hostile", "sleep", "3600"))
			removeContainer(t, b, id)
		})
	}
	f.removeAll(t, p)
}

// A registry serving an image past berth's bounds (more layers than it
// pulls, a config of more than 4 MiB) gets ResourceExhausted before the
// layers are downloaded: no image and no layer stays, and berth pulls the
// next image as before.
func TestHostileImagesPastBoundsRefused(t *testing.T) {
	f := newContainerFixtureWith(t, "berth-it-bounds", "berthitbounds", "10.124.21.0/24", harness.OversizedRegistry(t))
	b := f.b
	layersDir := filepath.Join(b.Dir, "root", "images", "layers")
	before := dirNames(t, layersDir)
	for _, ref := range []string{registry.TooManyLayersImage, registry.HugeConfigImage} {
		t.Run(filepath.Base(ref), func(t *testing.T) {
			_, err := b.Image().PullImage(ctx(t), &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
			if status.Code(err) != codes.ResourceExhausted {
				t.Fatalf("PullImage %s = %v, want ResourceExhausted", ref, err)
			}
			resp, err := b.Image().ImageStatus(ctx(t), &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
			if err != nil || resp.GetImage() != nil {
				t.Errorf("ImageStatus after a refused pull = %v, %v; want no image", resp.GetImage(), err)
			}
			if after := dirNames(t, layersDir); !slices.Equal(before, after) {
				t.Errorf("a refused pull changed the layer store: %v, then %v", before, after)
			}
		})
	}
	pullImage(t, b, stopSignalImage)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
