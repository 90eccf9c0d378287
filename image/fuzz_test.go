package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// FuzzParseReference: any string is a reference or an ErrInvalidReference,
// never a panic; a reference prints back to one that parses the same.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"busybox", "registry.k8s.io/pause:3.10", "localhost:5000/a/b@sha256:" + string(bytes.Repeat([]byte("a"), 64)), "UPPER", ":", "a@b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			return
		}
		again, err := ParseReference(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q parsed as %q, which parses as %q, %v", s, r.String(), again.String(), err)
		}
	})
}

// FuzzUnpackLayer unpacks any bytes as an uncompressed layer: it may be
// refused, never panic, and never leave a half-unpacked directory (what a
// hostile layer may write where is TestHostileLayersRejected's).
func FuzzUnpackLayer(f *testing.F) {
	for _, entries := range [][]tarEntry{
		{file("a", "a"), dir("d/"), symlink("d/l", "../a")},
		{file("../escape", "x")},
		{symlink("s", "/"), file("s/etc/x", "x")},
		{{name: "h", typ: '1', linkname: "../../etc/passwd"}},
	} {
		f.Add(rawTar(f, entries...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newStore(t)
		layer := static.NewLayer(data, types.OCIUncompressedLayer)
		diffID, err := layer.DiffID()
		if err != nil {
			return
		}
		_ = s.unpackLayer(context.Background(), layer.Compressed, diffID.String())
		entries, _ := os.ReadDir(filepath.Dir(s.LayerDir(diffID.String())))
		for _, e := range entries {
			if e.Name()[0] == '.' {
				t.Fatalf("a temporary directory was left: %s", e.Name())
			}
		}
	})
}
