//go:build integration

package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/harness"
)

// TestImageImport: an air-gapped node gets images without a registry:
// archives in image.import_dir at start-up (once each), `berth image
// import` into the running berth (a docker-archive from a file, an OCI
// archive from standard input, keeping its registry digest); a container
// runs from an imported image; `berth image export` gives it back with
// its ID and diff IDs; a corrupt archive is refused and leaves nothing.
func TestImageImport(t *testing.T) {
	busybox := harness.CatalogueImage(t, busyboxImage)
	importDir := t.TempDir()
	dropped, _ := name.NewTag("example.com/dropped/busybox:1")
	if err := tarball.MultiWriteToFile(filepath.Join(importDir, "busybox.tar"), map[name.Tag]v1.Image{dropped: busybox}); err != nil {
		t.Fatal(err)
	}
	f := startContainerFixture(t, "berth-it-import", "berthitimport", "10.124.39.0/24",
		harness.Options{Config: "[image]\nimport_dir = \"" + importDir + "\"\n"})
	if got := imageStatus(t, f.b, dropped.String()); got == nil {
		t.Fatalf("the archive in import_dir was not imported at start-up:\n%s", f.b.Logs())
	}
	p := f.runPod(t, "imported", nil)
	cfg := containerConfig("app", "sh", "-c", "echo from-an-imported-image; sleep 3600")
	cfg.Image = &runtimeapi.ImageSpec{Image: dropped.String()}
	id := runContainer(t, f.b, p, cfg)
	if out := execSync(t, f.b, id, "echo", "ok"); !strings.Contains(out, "ok") {
		t.Fatalf("exec in a container of an imported image: %q", out)
	}

	berth := func(stdin []byte, args ...string) (string, error) {
		cmd := exec.Command(harness.Binary(t), append([]string{"--config", f.b.ConfigFile}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// A docker-archive from a file.
	saved, _ := name.NewTag("example.com/saved/busybox:2")
	file := filepath.Join(t.TempDir(), "saved.tar")
	if err := tarball.MultiWriteToFile(file, map[name.Tag]v1.Image{saved: busybox}); err != nil {
		t.Fatal(err)
	}
	if out, err := berth(nil, "image", "import", file); err != nil || !strings.Contains(out, saved.String()) {
		t.Fatalf("berth image import %s: %v\n%s", file, err, out)
	}
	// An OCI archive on standard input keeps its registry digest.
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	const ociRef = "registry.example.com/mirror/busybox:3"
	if err := lp.AppendImage(busybox, layout.WithAnnotations(map[string]string{"io.containerd.image.name": ociRef})); err != nil {
		t.Fatal(err)
	}
	tarred, err := exec.Command("tar", "-C", dir, "-cf", "-", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := berth(tarred, "image", "import", "-"); err != nil || !strings.Contains(out, ociRef) {
		t.Fatalf("berth image import - (OCI archive): %v\n%s", err, out)
	}
	digest, _ := busybox.Digest()
	if st := imageStatus(t, f.b, ociRef); !slices.Contains(st.GetRepoDigests(), "registry.example.com/mirror/busybox@"+digest.String()) {
		t.Fatalf("the OCI archive's registry digest was not kept: %v", st.GetRepoDigests())
	}

	// Export: the same image, under its tags, that docker-archive readers
	// (go-containerregistry's here) load with its ID and diff IDs.
	exported := filepath.Join(t.TempDir(), "exported.tar")
	if out, err := berth(nil, "image", "export", saved.String(), exported); err != nil {
		t.Fatalf("berth image export: %v\n%s", err, out)
	}
	back, err := tarball.ImageFromPath(exported, &saved)
	if err != nil {
		t.Fatalf("the exported archive does not load: %v", err)
	}
	wantID, _ := busybox.ConfigName()
	gotID, _ := back.ConfigName()
	wantLayers, _ := busybox.ConfigFile()
	gotLayers, _ := back.ConfigFile()
	if gotID != wantID || !slices.Equal(gotLayers.RootFS.DiffIDs, wantLayers.RootFS.DiffIDs) {
		t.Fatalf("exported %s with %v; want %s with %v", gotID, gotLayers.RootFS.DiffIDs, wantID, wantLayers.RootFS.DiffIDs)
	}
	layers, err := back.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, rc)
		rc.Close()
		if d, _ := l.DiffID(); "sha256:"+hex.EncodeToString(h.Sum(nil)) != d.String() {
			t.Fatalf("exported layer %s does not hash to its diff ID", d)
		}
	}
	if out, err := berth(nil, "image", "export", "example.com/absent:1", exported+".absent"); err == nil || !strings.Contains(out, "not found") {
		t.Fatalf("export of an absent image: %v\n%s", err, out)
	}

	// A corrupt archive: a clear refusal, no new image.
	before := len(listImages(t, f.b))
	corrupt := append([]byte{}, tarred...)
	corrupt = corrupt[:len(corrupt)/2]
	if out, err := berth(corrupt, "image", "import", "-"); err == nil || !strings.Contains(out, "invalid image archive") {
		t.Fatalf("a truncated archive: %v\n%s", err, out)
	}
	if after := len(listImages(t, f.b)); after != before {
		t.Fatalf("%d images after a refused import, %d before", after, before)
	}
	if left, _ := filepath.Glob(filepath.Join(f.b.Dir, "root", "images", ".import-*")); len(left) != 0 {
		t.Fatalf("the refused import left %v", left)
	}

	// A restart does not import the unchanged archive again.
	removePod(t, f.b, p.id)
	if err := f.b.Stop(); err != nil {
		t.Fatal(err)
	}
	f.b.Restart(t)
	if strings.Count(f.b.Logs(), "image imported") != 3 {
		t.Fatalf("want 3 imports logged (start-up, file, standard input), not another after the restart:\n%s", f.b.Logs())
	}
	f.assertAllClean(t, []testPod{p})
}

func listImages(t *testing.T, b *harness.Berth) []*runtimeapi.Image {
	t.Helper()
	resp, err := b.Image().ListImages(ctx(t), &runtimeapi.ListImagesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetImages()
}
