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
