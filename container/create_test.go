package container

import (
	"testing"

	"github.com/berth-dev/berth/image"
)

// kubelet asks for an image by ID and names the pod spec's image in
// user_specified_image; ContainerStatus must report the latter, or kubelet
// never sees a container restarted with an updated image.
func TestImageName(t *testing.T) {
	img := &image.Image{ID: "sha256:abc", RepoTags: []string{"registry.k8s.io/e2e-test-images/busybox:1.37.0-2"}}
	tests := []struct {
		name string
		cfg  *Config
		want string
	}{
		{"kubelet: by ID, with the spec's name", &Config{Image: "sha256:abc", UserSpecifiedImage: "busybox:1.37.0-2"}, "busybox:1.37.0-2"},
		{"by ID alone: the image's tag", &Config{Image: "sha256:abc"}, "registry.k8s.io/e2e-test-images/busybox:1.37.0-2"},
		{"crictl: by name", &Config{Image: "busybox"}, "busybox"},
	}
	for _, tt := range tests {
		if got := imageName(tt.cfg, img); got != tt.want {
			t.Errorf("%s: imageName = %q, want %q", tt.name, got, tt.want)
		}
	}
	untagged := &image.Image{ID: "sha256:abc"}
	if got := imageName(&Config{Image: "sha256:abc"}, untagged); got != "sha256:abc" {
		t.Errorf("untagged image by ID: imageName = %q, want the ID", got)
	}
}
