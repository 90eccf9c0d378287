package container

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/sys/mountinfo"
	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/undo"
	"github.com/berth-dev/berth/spec"
)

// volumeLayer is a layer for an image volume: data/ with a file, a
// symlink to it by absolute path, and a symlink pointing out of the image.
func volumeLayer(t *testing.T) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "data/file", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4},
		{Name: "abs", Typeflag: tar.TypeSymlink, Linkname: "/data"},
		{Name: "out", Typeflag: tar.TypeSymlink, Linkname: "../../../../../../etc"},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("data"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// volumeManager is a Manager whose image store holds the image of
// volumeLayer, pulled from an in-process registry, returned too.
func volumeManager(t *testing.T) (*Manager, *image.Image) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	img, err := mutate.AppendLayers(empty.Image, volumeLayer(t))
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.TrimPrefix(srv.URL, "http://") + "/vol:1"
	tag, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	images, err := image.NewStore(t.TempDir(), db)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pulled, err := image.NewPuller(images, nil, 10*time.Second).Pull(ctx, ref, image.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	return &Manager{opts: Options{Images: images}, containers: map[string]*Container{}}, pulled
}

func imageMountOf(dst, ref, sub string) spec.Mount {
	return spec.Mount{ContainerPath: dst, Image: ref, ImageSubPath: sub}
}

// An image volume is the image mounted read-only in the bundle (a path of
// it with a sub path), unmounted by the create's undo stack on failure and
// by destroy's unmountImageVolumes.
func TestMountImageVolumes(t *testing.T) {
	m, img := volumeManager(t)
	tests := []struct {
		name      string
		sub       string
		wantFile  string // relative to the bound source; "" when it must fail
		invalid   bool
		wantInErr string
	}{
		{name: "whole image", wantFile: "data/file"},
		{name: "sub path", sub: "data", wantFile: "file"},
		{name: "sub path through an absolute symlink", sub: "abs", wantFile: "file"},
		{name: "sub path that is a file", sub: "data/file", wantFile: ""},
		{name: "symlink out of the image stays in it", sub: "out", invalid: true, wantInErr: `"out" does not exist in the image`},
		{name: "missing sub path", sub: "nope", invalid: true, wantInErr: `"nope" does not exist in the image`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bundle := t.TempDir()
			found, err := m.findImageMounts([]spec.Mount{
				{ContainerPath: "/host", HostPath: "/tmp"},
				imageMountOf("/vol", img.ID, tt.sub),
			})
			if err != nil || len(found) != 1 {
				t.Fatalf("findImageMounts = %+v, %v; want the one image mount", found, err)
			}
			var u undo.Stack
			vols, err := m.mountImageVolumes(bundle, found, &u)
			mountpoint := filepath.Join(imageVolumesDir(bundle), "0")
			if tt.invalid {
				if !errors.Is(err, ErrInvalid) || !errors.Is(err, spec.ErrImageVolumeMountFailed) || !strings.Contains(err.Error(), tt.wantInErr) {
					t.Fatalf("mountImageVolumes = %v; want ImageVolumeMountFailed, invalid, with %q", err, tt.wantInErr)
				}
				u.Run(logrus.NewEntry(logrus.StandardLogger()))
				if mounted, _ := mountinfo.Mounted(mountpoint); mounted {
					t.Error("the undo stack left the image mounted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unmountImageVolumes(bundle) })
			if len(vols) != 1 || vols[0].ImageID != img.ID || vols[0].ContainerPath != "/vol" || vols[0].Mountpoint != mountpoint {
				t.Fatalf("volumes = %+v", vols)
			}
			if !strings.HasPrefix(vols[0].Source, mountpoint) {
				t.Errorf("source %s is not in the image mounted at %s", vols[0].Source, mountpoint)
			}
			data, err := os.ReadFile(filepath.Join(vols[0].Source, tt.wantFile))
			if err != nil || string(data) != "data" {
				t.Errorf("file through the volume: %q, %v", data, err)
			}
			if err := os.WriteFile(filepath.Join(mountpoint, "new"), nil, 0o644); err == nil {
				t.Error("the image volume takes writes")
			}
			if got := imageMountSources(vols); got["/vol"] != vols[0].Source {
				t.Errorf("spec sources = %v", got)
			}

			if err := unmountImageVolumes(bundle); err != nil {
				t.Fatal(err)
			}
			if mounted, _ := mountinfo.Mounted(mountpoint); mounted {
				t.Error("unmountImageVolumes left the image mounted")
			}
		})
	}
}

func TestFindImageMountsUnknownImage(t *testing.T) {
	m, _ := volumeManager(t)
	_, err := m.findImageMounts([]spec.Mount{imageMountOf("/vol", "example.com/not-pulled:1", "")})
	if !errors.Is(err, image.ErrNotFound) || !errors.Is(err, spec.ErrImageVolumeMountFailed) {
		t.Fatalf("err = %v; want image not found and ImageVolumeMountFailed", err)
	}
	if !strings.HasPrefix(err.Error(), spec.ErrImageVolumeMountFailed.Error()) {
		t.Errorf("message %q must start with kubelet's %q", err, spec.ErrImageVolumeMountFailed)
	}
}

func TestUnmountImageVolumesWithoutAny(t *testing.T) {
	if err := unmountImageVolumes(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

// A container keeps both its own image and its image volumes' images in use.
func TestInUse(t *testing.T) {
	m := &Manager{containers: map[string]*Container{
		"c1": {rec: Record{ID: "c1", ImageID: "sha256:own", ImageVolumes: []ImageVolume{{ImageID: "sha256:vol"}}}},
	}}
	for id, want := range map[string]bool{"sha256:own": true, "sha256:vol": true, "sha256:other": false} {
		if got := m.InUse(id); got != want {
			t.Errorf("InUse(%s) = %v, want %v", id, got, want)
		}
	}
}
