package image

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/store"
	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"
)

// OCI whiteouts in an upper layer must hide the lower layer's files in the
// mounted rootfs: a deleted file is gone, a replaced directory is opaque.
func TestWhiteoutsHideLowerLayerInOverlay(t *testing.T) {
	reg := newTestRegistry(t, nil)
	lower := tarLayer(t, file("gone", "x"), dir("d/"), file("d/old", "old"), file("kept", "k"))
	upper := tarLayer(t, file(".wh.gone", ""), dir("d/"), file("d/.wh..wh..opq", ""), file("d/new", "new"))
	repo := reg.push(t, "wh:1", testImage(t, v1.Config{}, lower, upper))
	p, s := newPuller(t, nil)
	img := mustPull(t, p, repo+":1", Auth{})

	// On disk: overlay's own whiteout formats.
	upperDir := s.LayerDir(img.Layers[1])
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(upperDir, "gone"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Fatalf("want a 0/0 character device whiteout for 'gone', got mode %o rdev %d err %v", st.Mode, st.Rdev, err)
	}
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(upperDir, "d"), "trusted.overlay.opaque", buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Fatalf("want d marked opaque, got %q %v", buf[:n], err)
	}

	// Mounted: what a container sees.
	mnt := t.TempDir()
	opts := "lowerdir=" + upperDir + ":" + s.LayerDir(img.Layers[0])
	if err := unix.Mount("overlay", mnt, "overlay", unix.MS_RDONLY, opts); err != nil {
		t.Fatalf("mount overlay: %v", err)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	for path, want := range map[string]bool{"gone": false, "d/old": false, "d/new": true, "kept": true} {
		_, err := os.Stat(filepath.Join(mnt, path))
		if (err == nil) != want {
			t.Errorf("%s: present=%v, want %v", path, err == nil, want)
		}
	}
}

// A hostile layer never writes outside its directory, and a failed unpack
// leaves neither the layer nor a temporary directory behind.
func TestHostileLayersRejected(t *testing.T) {
	outside := t.TempDir()
	cases := map[string]struct {
		entries []tarEntry
		wantErr string // the refusal's reason
	}{
		"dot-dot path":         {[]tarEntry{file("../../../../"+strings.TrimPrefix(outside, "/")+"/traversal", "pwned")}, "invalid entry name"},
		"relative symlink dir": {[]tarEntry{symlink("rel", "../../../../../../../../"+strings.TrimPrefix(outside, "/")), file("rel/through-rel", "pwned")}, "path escapes from parent"},
		"hardlink out":         {[]tarEntry{{name: "hl", typ: tar.TypeLink, linkname: "../../../../etc/passwd", mode: 0o644}}, `invalid hardlink target "../../../../etc/passwd"`},
	}
	for name, tt := range cases {
		t.Run(name, func(t *testing.T) {
			reg := newTestRegistry(t, nil)
			repo := reg.push(t, "evil:1", testImage(t, v1.Config{}, tarLayer(t, tt.entries...)))
			p, s := newPuller(t, nil)
			_, err := p.Pull(t.Context(), repo+":1", Auth{})
			written, _ := os.ReadDir(outside)
			if len(written) != 0 {
				t.Fatalf("a layer wrote outside its directory: %v", written)
			}
			if err == nil || !strings.Contains(err.Error(), "unpack layer") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("hostile layer: err = %v; want the unpack refused with %q", err, tt.wantErr)
			}
			entries, _ := os.ReadDir(filepath.Join(s.Dir(), "layers"))
			if len(entries) != 0 {
				t.Fatalf("a failed unpack left %v", entries)
			}
		})
	}
}

// Ownership, modes (setuid included), hardlinks and symlinks survive the unpack.
func TestUnpackKeepsMetadata(t *testing.T) {
	reg := newTestRegistry(t, nil)
	layer := tarLayer(t,
		dir("usr/"),
		tarEntry{name: "usr/nnp", typ: tar.TypeReg, body: "bin", mode: 0o4755, uid: 1234, gid: 5678},
		// A hardlink's header carries its inode's owner, as tar writes it.
		tarEntry{name: "usr/hard", typ: tar.TypeLink, linkname: "usr/nnp", mode: 0o4755, uid: 1234, gid: 5678},
		symlink("usr/soft", "nnp"),
		tarEntry{name: "usr/owned/", typ: tar.TypeDir, mode: 0o750, uid: 4321, gid: 8765},
	)
	repo := reg.push(t, "meta:1", testImage(t, v1.Config{}, layer))
	p, s := newPuller(t, nil)
	img := mustPull(t, p, repo+":1", Auth{})
	root := s.LayerDir(img.Layers[0])
	st, err := os.Stat(filepath.Join(root, "usr/nnp"))
	if err != nil || st.Mode()&os.ModeSetuid == 0 || st.Mode().Perm() != 0o755 {
		t.Fatalf("setuid lost: %v %v", st.Mode(), err)
	}
	var a, b unix.Stat_t
	if unix.Stat(filepath.Join(root, "usr/nnp"), &a) != nil || unix.Stat(filepath.Join(root, "usr/hard"), &b) != nil || a.Ino != b.Ino {
		t.Fatal("hardlink not kept")
	}
	if target, err := os.Readlink(filepath.Join(root, "usr/soft")); err != nil || target != "nnp" {
		t.Fatalf("symlink: %q %v", target, err)
	}
	if a.Uid != 1234 || a.Gid != 5678 {
		t.Errorf("file owner %d:%d, want 1234:5678", a.Uid, a.Gid)
	}
	var d unix.Stat_t
	if err := unix.Stat(filepath.Join(root, "usr/owned"), &d); err != nil || d.Uid != 4321 || d.Gid != 8765 || d.Mode&0o777 != 0o750 {
		t.Errorf("dir owner %d:%d mode %o (%v), want 4321:8765 750", d.Uid, d.Gid, d.Mode&0o777, err)
	}
}

// An absolute symlink means what it means inside the container: it resolves
// against the layer root (as a chroot would), so writing through it lands
// inside the layer, never on the host path it names.
func TestAbsoluteSymlinkResolvesInsideLayer(t *testing.T) {
	outside := t.TempDir()
	reg := newTestRegistry(t, nil)
	repo := reg.push(t, "abs:1", testImage(t, v1.Config{}, tarLayer(t, symlink("link", outside), file("link/through", "data"))))
	p, s := newPuller(t, nil)
	img := mustPull(t, p, repo+":1", Auth{})
	if written, _ := os.ReadDir(outside); len(written) != 0 {
		t.Fatalf("a layer wrote outside its directory: %v", written)
	}
	data, err := os.ReadFile(filepath.Join(s.LayerDir(img.Layers[0]), outside, "through"))
	if err != nil || string(data) != "data" {
		t.Fatalf("want the file inside the layer at %s/through: %q %v", outside, data, err)
	}
}

// gzip, zstd and uncompressed layers all unpack.
func TestLayerCompressions(t *testing.T) {
	reg := newTestRegistry(t, nil)
	layers := []v1.Layer{
		tarLayer(t, file("gzip", "g")),
		tarLayerWith(t, []tarEntry{file("zstd", "z")}, tarball.WithCompression(compression.ZStd)),
		static.NewLayer(rawTar(t, file("plain", "p")), types.OCIUncompressedLayer),
	}
	repo := reg.push(t, "comp:1", testImage(t, v1.Config{}, layers...))
	p, s := newPuller(t, nil)
	img := mustPull(t, p, repo+":1", Auth{})
	for i, name := range []string{"gzip", "zstd", "plain"} {
		if _, err := os.Stat(filepath.Join(s.LayerDir(img.Layers[i]), name)); err != nil {
			t.Errorf("%s layer: %v", name, err)
		}
	}
}

// The same layer unpacked twice at once (two images sharing it pulled
// together, or one image listing it twice) is one success for both, not a
// failed rename for the second.
func TestSameLayerUnpackedConcurrently(t *testing.T) {
	for i := range 200 {
		s := newStore(t)
		layer := static.NewLayer(rawTar(t, file("f", strings.Repeat("x", i))), types.OCIUncompressedLayer)
		diffID, err := layer.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				<-start
				errs <- s.unpackLayer(context.Background(), layer.Compressed, diffID.String())
			}()
		}
		close(start)
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
		}
		if !s.hasLayer(diffID.String()) {
			t.Fatalf("round %d: the layer is not recorded", i)
		}
	}
}

// A layer unpacked and moved into place whose record cannot be written (a
// full disk) is removed again: left unrecorded, it would make every later
// unpack of it fail on the rename.
func TestUnrecordedLayerIsNotLeft(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "meta.db")
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(t.TempDir(), db)
	if err != nil {
		t.Fatal(err)
	}
	layer := static.NewLayer(rawTar(t, file("f", "data")), types.OCIUncompressedLayer)
	diffID, err := layer.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // every write to it now fails
		t.Fatal(err)
	}
	if err := s.unpackLayer(context.Background(), layer.Compressed, diffID.String()); err == nil {
		t.Fatal("unpack with a store that cannot record it succeeded")
	}
	if entries, _ := os.ReadDir(s.layersDir()); len(entries) != 0 {
		t.Errorf("the unrecorded layer is left: %v", entries)
	}
	if s.db, err = store.Open(dbPath); err != nil {
		t.Fatal(err)
	}
	defer s.db.Close()
	if err := s.unpackLayer(context.Background(), layer.Compressed, diffID.String()); err != nil {
		t.Fatalf("unpack once the store can record it: %v", err)
	}
}
