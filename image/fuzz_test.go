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

// FuzzImportArchive imports any bytes as an image archive: it may be
// refused, never panic, and a refused one leaves no layer, image or
// temporary file.
func FuzzImportArchive(f *testing.F) {
	for _, data := range [][]byte{
		tarFiles(f, [2]string{"manifest.json", `[{"Config": "c.json", "RepoTags": ["a:1"], "Layers": ["l.tar"]}]`}, [2]string{"c.json", `{"rootfs": {"type": "layers", "diff_ids": []}}`}, [2]string{"l.tar", ""}),
		tarFiles(f, [2]string{"oci-layout", `{"imageLayoutVersion": "1.0.0"}`}, [2]string{"index.json", `{"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:` + string(bytes.Repeat([]byte("0"), 64)) + `", "size": 2}]}`}),
		tarFiles(f, [2]string{"../../escape", "x"}, [2]string{"blobs/sha256/../../../x", "y"}),
	} {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newStore(t)
		path := filepath.Join(t.TempDir(), "archive")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(context.Background(), path); err == nil {
			return
		}
		if left, _ := os.ReadDir(s.layersDir()); len(left) != 0 {
			t.Fatalf("a refused archive left layers: %v", left)
		}
		if left, _ := filepath.Glob(filepath.Join(s.dir, ".import-*")); len(left) != 0 {
			t.Fatalf("a refused archive left %v", left)
		}
		if n := len(s.List()); n != 0 {
			t.Fatalf("a refused archive left %d images", n)
		}
	})
}

// FuzzHostsToml reads any hosts.toml: it may be refused (as a registry
// configuration error), never panic.
func FuzzHostsToml(f *testing.F) {
	for _, s := range []string{
		"server = \"https://r.example\"\n[host.\"http://m:5000/v2/x\"]\n  capabilities = [\"pull\"]\n  client = [[\"a\", \"b\"]]\n  [host.\"http://m:5000/v2/x\".header]\n    x = [\"1\", \"2\"]\n",
		"ca = 1\n", "client = [1]\n", "[host.\"\"]\n", "skip_verify = \"yes\"\n", "dial_timeout = \"x\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = loadHostDir(dir)
	})
}
