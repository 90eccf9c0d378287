package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// tarFiles writes a tar of name → content, in the order given.
func tarFiles(t testing.TB, files ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f[1]))
	}
	tw.Close()
	return b.Bytes()
}

func writeArchive(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "archive.tar")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha(data string) string {
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:])
}

// dockerSave is a docker-archive as `docker save` writes it: plain layer
// tars, a config named by its digest, manifest.json.
func dockerSave(t *testing.T, tag string, layers ...[]byte) (archive []byte, id string) {
	t.Helper()
	cfg := v1.ConfigFile{Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"}, Config: v1.Config{Cmd: []string{"/app"}}}
	var files [][2]string
	var paths []string
	for _, l := range layers {
		d := sha(string(l))
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, v1.Hash{Algorithm: "sha256", Hex: d})
		files = append(files, [2]string{d + "/layer.tar", string(l)})
		paths = append(paths, d+"/layer.tar")
	}
	raw, _ := json.Marshal(cfg)
	id = sha(string(raw))
	manifest, _ := json.Marshal([]map[string]any{{"Config": id + ".json", "RepoTags": []string{tag}, "Layers": paths}})
	files = append(files, [2]string{id + ".json", string(raw)}, [2]string{"manifest.json", string(manifest)})
	return tarFiles(t, files...), "sha256:" + id
}

func mustImport(t *testing.T, s *Store, path string) []*Image {
	t.Helper()
	imgs, err := s.Import(context.Background(), path)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return imgs
}

func TestImportDockerSave(t *testing.T) {
	s := newStore(t)
	archive, id := dockerSave(t, "example.com/app:1", rawTar(t, file("etc/app", "v1")), rawTar(t, file("bin/app", "x")))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(archive)
	zw.Close()
	for name, data := range map[string][]byte{"plain": archive, "gzip": gz.Bytes()} {
		t.Run(name, func(t *testing.T) {
			imgs := mustImport(t, s, writeArchive(t, data))
			if len(imgs) != 1 || imgs[0].ID != id || !slices.Equal(imgs[0].RepoTags, []string{"example.com/app:1"}) || len(imgs[0].RepoDigests) != 0 {
				t.Fatalf("imported %+v; want %s tagged example.com/app:1, without a registry digest", imgs, id)
			}
			got, err := s.Get("example.com/app:1")
			if err != nil || got.ID != id {
				t.Fatalf("Get: %v, %v", got, err)
			}
			data, err := os.ReadFile(filepath.Join(s.LayerDir(got.Layers[0]), "etc/app"))
			if err != nil || string(data) != "v1" {
				t.Fatalf("layer content: %q, %v", data, err)
			}
		})
	}
}

func TestImportDockerArchiveOfManyImages(t *testing.T) {
	s := newStore(t)
	a := testImage(t, v1.Config{Cmd: []string{"a"}}, tarLayer(t, file("a", "a")))
	b := testImage(t, v1.Config{Cmd: []string{"b"}}, tarLayer(t, file("b", "b")))
	ta, _ := name.NewTag("example.com/a:1")
	tb, _ := name.NewTag("busybox:latest")
	path := filepath.Join(t.TempDir(), "two.tar")
	if err := tarball.MultiWriteToFile(path, map[name.Tag]v1.Image{ta: a, tb: b}); err != nil {
		t.Fatal(err)
	}
	imgs := mustImport(t, s, path)
	if len(imgs) != 2 {
		t.Fatalf("imported %d images, want 2", len(imgs))
	}
	for ref, img := range map[string]v1.Image{"example.com/a:1": a, "docker.io/library/busybox:latest": b} {
		want, _ := img.ConfigName()
		if got, err := s.Get(ref); err != nil || got.ID != want.String() {
			t.Errorf("%s: %v, %v; want %s", ref, got, err, want)
		}
	}
}

// ociArchive is a tar of an OCI image layout holding img under ref.
func ociArchive(t *testing.T, ref string, img v1.Image) (path string, manifestDigest string) {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{annotationImageName: ref, annotationRefName: "1"})); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return tarDir(t, dir), d.String()
}

// tarDir tars a directory's files (as `tar -C dir .` would).
func tarDir(t *testing.T, dir string) string {
	t.Helper()
	var files [][2]string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			data, _ := os.ReadFile(p)
			files = append(files, [2]string{"./" + rel, string(data)})
		}
		return nil
	})
	return writeArchive(t, tarFiles(t, files...))
}

func TestImportOCIArchiveKeepsTheRegistryDigest(t *testing.T) {
	s := newStore(t)
	img := testImage(t, v1.Config{Cmd: []string{"oci"}}, tarLayer(t, file("oci", "yes")))
	path, digest := ociArchive(t, "registry.example.com/team/app:1", img)
	imgs := mustImport(t, s, path)
	want, _ := img.ConfigName()
	if len(imgs) != 1 || imgs[0].ID != want.String() {
		t.Fatalf("imported %+v, want %s", imgs, want)
	}
	if !slices.Equal(imgs[0].RepoTags, []string{"registry.example.com/team/app:1"}) || !slices.Equal(imgs[0].RepoDigests, []string{"registry.example.com/team/app@" + digest}) {
		t.Fatalf("names %v %v; want the tag and the manifest's digest", imgs[0].RepoTags, imgs[0].RepoDigests)
	}
	// Referenced by the digest, as a pod spec pinned to it would.
	if got, err := s.Get("registry.example.com/team/app@" + digest); err != nil || got.ID != want.String() {
		t.Fatalf("by digest: %v, %v", got, err)
	}
}

func TestImportOCIArchiveResolvesAnIndexToThisPlatform(t *testing.T) {
	s := newStore(t)
	amd := testImage(t, v1.Config{Cmd: []string{"amd64"}}, tarLayer(t, file("arch", "amd64")))
	arm := testImage(t, v1.Config{Cmd: []string{"arm64"}}, tarLayer(t, file("arch", "arm64")))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{annotationImageName: "example.com/multi:2"})); err != nil {
		t.Fatal(err)
	}
	imgs := mustImport(t, s, tarDir(t, dir))
	want, _ := amd.ConfigName()
	idxDigest, _ := idx.Digest()
	if len(imgs) != 1 || imgs[0].ID != want.String() || !slices.Equal(imgs[0].RepoDigests, []string{"example.com/multi@" + idxDigest.String()}) {
		t.Fatalf("imported %+v; want the amd64 image, with the index's digest", imgs)
	}
}

// TestImportRefusesBadArchives: each is refused with an error that says
// why, and leaves no layer and nothing outside the store.
func TestImportRefusesBadArchives(t *testing.T) {
	good := rawTar(t, file("ok", "ok"))
	corrupt, _ := dockerSave(t, "example.com/bad:1", good, rawTar(t, file("x", "original-content")))
	// The second layer's bytes no longer match its diff ID.
	corrupt = bytes.Replace(corrupt, []byte("original-content"), []byte("tampered-content"), 1)

	img := testImage(t, v1.Config{}, tarLayer(t, file("a", "a")))
	_, digest := ociArchive(t, "example.com/oci:1", img)
	// A manifest blob whose content is not its digest.
	tampered := tarFiles(t,
		[2]string{"oci-layout", `{"imageLayoutVersion": "1.0.0"}`},
		[2]string{"index.json", `{"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "` + digest + `", "size": 2}]}`},
		[2]string{"blobs/sha256/" + strings.TrimPrefix(digest, "sha256:"), `{}`},
	)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat(good, 50))
	zw.Close()
	truncatedGzip := gz.Bytes()[:gz.Len()/2]
	escape := filepath.Join(t.TempDir(), "escaped")
	hostile := tarFiles(t, [2]string{"../../../../../../.." + escape, "pwned"},
		[2]string{"oci-layout", `{"imageLayoutVersion": "1.0.0"}`}, [2]string{"index.json", `{"schemaVersion": 2, "manifests": []}`})

	for _, tt := range []struct {
		name string
		data []byte
		want error
		says string
	}{
		{"not a tar", []byte("this is not an archive at all, just text that goes on for a while............................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................"), ErrInvalidArchive, "not a tar"},
		{"a tar of neither format", tarFiles(t, [2]string{"hello.txt", "hi"}), ErrInvalidArchive, "neither"},
		{"a cut gzip stream", truncatedGzip, ErrInvalidArchive, "decompress"},
		{"a layer that is not its diff ID", corrupt, ErrInvalidArchive, "layer content"},
		{"a manifest that is not its digest", tampered, ErrInvalidArchive, "holds content of digest"},
		{"names escaping the layout", hostile, ErrInvalidArchive, "lists no image"},
		{"an oversized manifest.json", tarFiles(t, [2]string{"manifest.json", strings.Repeat(" ", maxManifestSize+1)}), ErrTooLarge, "manifest.json"},
		{"an OCI layout with a broken index", tarFiles(t, [2]string{"oci-layout", `{"imageLayoutVersion": "1.0.0"}`}, [2]string{"index.json", `{"schemaVersion": 2, "manifests": [`}), ErrInvalidArchive, "index"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			_, err := s.Import(context.Background(), writeArchive(t, tt.data))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("import: %v; want %v saying %q", err, tt.want, tt.says)
			}
			if left, _ := os.ReadDir(s.layersDir()); len(left) != 0 {
				t.Errorf("the refused import left layers: %v", left)
			}
			if left, _ := filepath.Glob(filepath.Join(s.dir, ".import-*")); len(left) != 0 {
				t.Errorf("the refused import left %v", left)
			}
			if len(s.List()) != 0 {
				t.Errorf("the refused import left images: %v", s.List())
			}
		})
	}
	if _, err := os.Stat(escape); err == nil {
		t.Fatal("an archive entry was written outside the store")
	}
}

// TestExportRoundTrip: an exported image imports as the same image: the
// layers are rebuilt to the very bytes of their diff IDs, whiteouts,
// opaque dirs, links and modes included.
func TestExportRoundTrip(t *testing.T) {
	reg := newTestRegistry(t, nil)
	base := tarLayer(t, dir("etc"), file("etc/a", "a"), file("etc/b", "b"), dir("data"), file("data/old", "old"),
		tarEntry{name: "etc/run.sh", typ: tar.TypeReg, body: "#!/bin/sh\n", mode: 0o755})
	top := tarLayer(t, file("etc/.wh.a", ""), dir("data"), file("data/.wh..wh..opq", ""), file("data/new", "new"),
		file("etc/d", "d"), tarEntry{name: "etc/d-link", typ: tar.TypeLink, linkname: "etc/d"}, symlink("etc/c", "b"))
	img := testImage(t, v1.Config{Cmd: []string{"/bin/sh"}}, base, top)
	repo := reg.push(t, "export/app:1", img)
	p, s := newPuller(t, nil)
	pulled := mustPull(t, p, repo+":1", Auth{})

	var archive bytes.Buffer
	if err := s.Export(repo+":1", &archive); err != nil {
		t.Fatalf("export: %v", err)
	}
	other := newStore(t)
	imgs := mustImport(t, other, writeArchive(t, archive.Bytes()))
	if len(imgs) != 1 || imgs[0].ID != pulled.ID || !slices.Equal(imgs[0].Layers, pulled.Layers) || !slices.Equal(imgs[0].RepoTags, pulled.RepoTags) {
		t.Fatalf("re-imported %+v; want %s with layers %v and tags %v", imgs, pulled.ID, pulled.Layers, pulled.RepoTags)
	}
	if _, err := os.Stat(filepath.Join(other.LayerDir(pulled.Layers[1]), "data", "new")); err != nil {
		t.Fatalf("the re-imported top layer: %v", err)
	}

	// A layer stored without its record (by an older berth) is refused up
	// front, before a byte is written.
	os.Remove(s.tarSplitPath(pulled.Layers[0]))
	var none bytes.Buffer
	if err := s.Export(repo+":1", &none); !errors.Is(err, ErrNotExportable) || none.Len() != 0 {
		t.Fatalf("export without a tar-split record: %v, %d bytes; want ErrNotExportable and nothing written", err, none.Len())
	}
	if err := s.Export("example.com/absent:1", &none); !errors.Is(err, ErrNotFound) {
		t.Fatalf("export of an absent image: %v", err)
	}
}

// TestTarSplitRecordsFollowTheirLayers: a pull writes its layers'
// records; removing the image removes them.
func TestTarSplitRecordsFollowTheirLayers(t *testing.T) {
	reg := newTestRegistry(t, nil)
	repo := reg.push(t, "ts/app:1", testImage(t, v1.Config{}, tarLayer(t, file("x", "x"))))
	p, s := newPuller(t, nil)
	img := mustPull(t, p, repo+":1", Auth{})
	if _, err := os.Stat(s.tarSplitPath(img.Layers[0])); err != nil {
		t.Fatalf("no tar-split record after the pull: %v", err)
	}
	if err := s.Remove(repo+":1", nil); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(s.tarSplitDir()); len(left) != 0 {
		t.Fatalf("records left after the image went: %v", left)
	}
}
