package oci

import (
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/image"
)

// kubelet asks for an image by ID and names the pod spec's image in
// user_specified_image; ContainerStatus must report the latter, or kubelet
// never sees a container restarted with an updated image.
func TestImageName(t *testing.T) {
	img := &image.Image{ID: "sha256:abc", RepoTags: []string{"registry.k8s.io/e2e-test-images/busybox:1.37.0-2"}}
	tests := []struct {
		name string
		spec *runtimeapi.ImageSpec
		want string
	}{
		{"kubelet: by ID, with the spec's name", &runtimeapi.ImageSpec{Image: "sha256:abc", UserSpecifiedImage: "busybox:1.37.0-2"}, "busybox:1.37.0-2"},
		{"by ID alone: the image's tag", &runtimeapi.ImageSpec{Image: "sha256:abc"}, "registry.k8s.io/e2e-test-images/busybox:1.37.0-2"},
		{"crictl: by name", &runtimeapi.ImageSpec{Image: "busybox"}, "busybox"},
	}
	for _, tt := range tests {
		if got := imageName(tt.spec, img); got != tt.want {
			t.Errorf("%s: imageName = %q, want %q", tt.name, got, tt.want)
		}
	}
	untagged := &image.Image{ID: "sha256:abc"}
	if got := imageName(&runtimeapi.ImageSpec{Image: "sha256:abc"}, untagged); got != "sha256:abc" {
		t.Errorf("untagged image by ID: imageName = %q, want the ID", got)
	}
}
