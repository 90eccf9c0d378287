package image

import (
	"errors"
	"testing"
)

func TestParseReference(t *testing.T) {
	const d = "sha256:9700f9a2f5bf2c45f2f605a0bd3bce7cf37420ec9d3ed50ac2758413308766bf"
	cases := []struct {
		in                string
		repo, tag, digest string
		canonical         string
	}{
		{"busybox", "docker.io/library/busybox", "latest", "", "docker.io/library/busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox", "1.36", "", "docker.io/library/busybox:1.36"},
		{"docker.io/library/busybox", "docker.io/library/busybox", "latest", "", "docker.io/library/busybox:latest"},
		{"index.docker.io/user/app:v1", "docker.io/user/app", "v1", "", "docker.io/user/app:v1"},
		{"registry.k8s.io/pause:3.9", "registry.k8s.io/pause", "3.9", "", "registry.k8s.io/pause:3.9"},
		{"127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b", "latest", "", "127.0.0.1:5000/a/b:latest"},
		{"localhost:5000/a@" + d, "localhost:5000/a", "", d, "localhost:5000/a@" + d},
		{"gcr.io/x/y:tag@" + d, "gcr.io/x/y", "tag", d, "gcr.io/x/y:tag@" + d},
	}
	for _, tc := range cases {
		r, err := ParseReference(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if r.Repository != tc.repo || r.Tag != tc.tag || r.Digest != tc.digest || r.String() != tc.canonical {
			t.Errorf("%s: got %+v (%s), want %s %s %s (%s)", tc.in, r, r.String(), tc.repo, tc.tag, tc.digest, tc.canonical)
		}
	}
}

func TestParseReferenceRejects(t *testing.T) {
	for _, in := range []string{"", " busybox", "UPPER/case", "a/b:bad tag", "busybox@sha256:short", "busybox@md5:abc", "a//b", "busybox:"} {
		if _, err := ParseReference(in); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("%q: want ErrInvalidReference, got %v", in, err)
		}
	}
}

func TestReferenceOnMirror(t *testing.T) {
	r, err := ParseReference("registry.k8s.io/e2e-test-images/busybox:1.29-2")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.on("127.0.0.1:5000/registry.k8s.io", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := ref.String(); got != "127.0.0.1:5000/registry.k8s.io/e2e-test-images/busybox:1.29-2" {
		t.Fatalf("got %s", got)
	}
	if ref.Context().Registry.Scheme() != "http" {
		t.Fatal("loopback registries must be plain HTTP")
	}
}
