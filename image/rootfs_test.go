package image

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// An image mounted read-only shows its merged layers, takes no writes and
// no device nodes, and leaves the shared layers untouched.
func TestMountReadOnly(t *testing.T) {
	tests := []struct {
		name   string
		layers func(t *testing.T) []v1.Layer
		want   map[string]string // path → content; "" = must be absent
	}{
		{
			// Overlay refuses a single lower dir without an upper dir.
			name:   "one layer",
			layers: func(t *testing.T) []v1.Layer { return []v1.Layer{tarLayer(t, dir("data/"), file("data/a", "a"))} },
			want:   map[string]string{"data/a": "a"},
		},
		{
			name: "layers with whiteouts",
			layers: func(t *testing.T) []v1.Layer {
				return []v1.Layer{
					tarLayer(t, file("gone", "x"), file("kept", "old")),
					tarLayer(t, file(".wh.gone", ""), file("kept", "new")),
				}
			},
			want: map[string]string{"gone": "", "kept": "new"},
		},
		{
			name:   "no layers",
			layers: func(t *testing.T) []v1.Layer { return nil },
			want:   map[string]string{"anything": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newTestRegistry(t, nil)
			repo := reg.push(t, "vol:1", testImage(t, v1.Config{}, tt.layers(t)...))
			p, s := newPuller(t, nil)
			img := mustPull(t, p, repo+":1", Auth{})

			target := filepath.Join(t.TempDir(), "vol")
			if err := s.MountReadOnly(img, target); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { UnmountReadOnly(target) })
			for path, want := range tt.want {
				data, err := os.ReadFile(filepath.Join(target, path))
				if want == "" && !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: %q, %v; want it absent", path, data, err)
				}
				if want != "" && (err != nil || string(data) != want) {
					t.Errorf("%s: %q, %v; want %q", path, data, err, want)
				}
			}
			if err := os.WriteFile(filepath.Join(target, "new"), []byte("x"), 0o644); !errors.Is(err, unix.EROFS) {
				t.Errorf("writing into the image: %v, want EROFS", err)
			}
			mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(target))
			if err != nil || len(mounts) != 1 {
				t.Fatalf("mount at %s: %+v, %v", target, mounts, err)
			}
			opts := strings.Split(mounts[0].Options, ",")
			if m := mounts[0]; m.FSType != "overlay" || !slices.Contains(opts, "ro") || !slices.Contains(opts, "nodev") || strings.Contains(m.VFSOptions, "upperdir") {
				t.Errorf("mount = %s %q %q; want a read-only nodev overlay without an upper dir", m.FSType, m.Options, m.VFSOptions)
			}

			if err := UnmountReadOnly(target); err != nil {
				t.Fatal(err)
			}
			if mounted, _ := mountinfo.Mounted(target); mounted {
				t.Error("still mounted after UnmountReadOnly")
			}
			if err := UnmountReadOnly(target); err != nil {
				t.Errorf("unmounting twice: %v", err)
			}
		})
	}
}

// A container's writable rootfs is a volatile overlay where the kernel
// has the option: unmounting it does not flush the layer to disk. It still
// shows the image and takes writes.
func TestMountRootfsIsVolatile(t *testing.T) {
	reg := newTestRegistry(t, nil)
	repo := reg.push(t, "rw:1", testImage(t, v1.Config{}, tarLayer(t, file("a", "a"))))
	p, s := newPuller(t, nil)
	img := mustPull(t, p, repo+":1", Auth{})
	if !s.volatile() {
		t.Skip("this kernel's overlay has no volatile option (Linux < 5.10)")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "rootfs")
	if err := s.MountRootfs(img, dir, target); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { UnmountRootfs(target) })
	if data, err := os.ReadFile(filepath.Join(target, "a")); err != nil || string(data) != "a" {
		t.Errorf("image file through the rootfs: %q, %v", data, err)
	}
	if err := os.WriteFile(filepath.Join(target, "b"), []byte("b"), 0o644); err != nil {
		t.Errorf("write into the rootfs: %v", err)
	}
	mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(target))
	if err != nil || len(mounts) != 1 {
		t.Fatalf("mount at %s: %+v, %v", target, mounts, err)
	}
	// Linux 6.6 and later show it as fsync=volatile.
	if vfs := strings.Split(mounts[0].VFSOptions, ","); !slices.Contains(vfs, "volatile") && !slices.Contains(vfs, "fsync=volatile") {
		t.Errorf("rootfs overlay options %q lack volatile", mounts[0].VFSOptions)
	}
	if err := UnmountRootfs(target); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "upper", "b")); err != nil || string(data) != "b" {
		t.Errorf("the write is not in the upper dir after unmount: %q, %v", data, err)
	}
}
