package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/go-archive/compression"
	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/internal/fsutil"
)

// ErrInvalidArchive marks an image archive berth cannot read: not a tar,
// neither format, or contents that contradict themselves.
var ErrInvalidArchive = errors.New("invalid image archive")

// OCI image layout annotations that name an image.
const (
	annotationImageName = "io.containerd.image.name"          // the full reference (containerd, nerdctl, skopeo)
	annotationRefName   = "org.opencontainers.image.ref.name" // a full reference, or a tag alone
)

// ociArchiveEntry are the files of an OCI image layout an import reads;
// anything else in the archive is skipped, so no name in it reaches the
// disk but these.
var ociArchiveEntry = regexp.MustCompile(`^(oci-layout|index\.json|blobs/[a-z0-9]+/[a-f0-9]{32,128})$`)

// Import stores every image of the archive at path: a docker-archive
// (`docker save`: manifest.json), or an OCI archive (a tar of an OCI image
// layout: oci-layout, index.json, blobs/), plain or compressed. An image
// keeps the names the archive gives it; from an OCI layout also its
// registry digest (the manifest's digest, which a docker-archive does not
// keep). A corrupt or hostile archive is ErrInvalidArchive (or
// ErrTooLarge) and leaves nothing: layers it stored are removed unless an
// image uses them.
func (s *Store) Import(ctx context.Context, path string) (imgs []*Image, err error) {
	defer func() {
		if err != nil {
			s.collectUnused()
		}
	}()
	plain, err := s.plainArchive(path)
	if err != nil {
		return nil, err
	}
	if plain != path {
		defer os.Remove(plain)
	}
	sizes, err := archiveEntries(plain)
	if err != nil {
		return nil, err
	}
	switch {
	case sizes["manifest.json"] > 0:
		return s.importDockerArchive(ctx, func() (io.ReadCloser, error) { return os.Open(plain) }, sizes)
	case sizes["index.json"] > 0 && sizes["oci-layout"] > 0:
		return s.importOCIArchive(ctx, plain)
	}
	return nil, fmt.Errorf("%w: neither a docker-archive (no manifest.json) nor an OCI archive (no oci-layout and index.json)", ErrInvalidArchive)
}

// plainArchive is path when the archive is a plain tar, else a plain
// copy decompressed once into the store (a docker-archive's files are
// read by scanning the tar, once per file).
func (s *Store) plainArchive(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 10)
	n, _ := io.ReadFull(f, head)
	if compression.Detect(head[:n]) == compression.None {
		return path, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	plain, err := compression.DecompressStream(f)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidArchive, err)
	}
	defer plain.Close()
	// The ".import-" prefix: the store removes what a crash left of it.
	out, err := os.CreateTemp(s.dir, ".import-plain-")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, plain)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		if fsutil.NoSpace(err) {
			return "", err
		}
		return "", fmt.Errorf("%w: decompress: %v", ErrInvalidArchive, err)
	}
	return out.Name(), nil
}

// eachEntry calls fn for each entry of the tar at path, with its name
// cleaned ("./a" is "a") and a reader of its content.
func eachEntry(path string, fn func(name string, h *tar.Header, r io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: not a tar: %v", ErrInvalidArchive, err)
		}
		if err := fn(strings.TrimPrefix(filepath.Clean(h.Name), "./"), h, tr); err != nil {
			return err
		}
	}
}

// archiveEntries lists the regular files of the tar with their sizes,
// and bounds the index files before anything parses them.
func archiveEntries(path string) (map[string]int64, error) {
	sizes := map[string]int64{}
	err := eachEntry(path, func(name string, h *tar.Header, _ io.Reader) error {
		if h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeSymlink {
			sizes[name] = max(h.Size, 1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"manifest.json", "index.json"} {
		if sizes[f] > maxManifestSize {
			return nil, fmt.Errorf("%w: %s is %d bytes, at most %d", ErrTooLarge, f, sizes[f], maxManifestSize)
		}
	}
	return sizes, nil
}

// importDockerArchive stores each image of a docker-archive, named by its
// RepoTags.
func (s *Store) importDockerArchive(ctx context.Context, open tarball.Opener, sizes map[string]int64) ([]*Image, error) {
	manifest, err := tarball.LoadManifest(open)
	if err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrInvalidArchive, err)
	}
	if len(manifest) == 0 {
		return nil, fmt.Errorf("%w: manifest.json lists no image", ErrInvalidArchive)
	}
	var out []*Image
	for i, d := range manifest {
		if sizes[d.Config] > maxConfigSize {
			return nil, fmt.Errorf("%w: the image config %s is %d bytes, at most %d", ErrTooLarge, d.Config, sizes[d.Config], maxConfigSize)
		}
		var tags []string
		var pick *name.Tag
		for _, t := range d.RepoTags {
			r, err := ParseReference(t)
			if err != nil || r.Tag == "" {
				return nil, fmt.Errorf("%w: image %d: tag %q: %v", ErrInvalidArchive, i, t, err)
			}
			tags = append(tags, r.TagRef())
			if pick == nil {
				tag, err := name.NewTag(t)
				if err != nil {
					return nil, fmt.Errorf("%w: image %d: tag %q: %v", ErrInvalidArchive, i, t, err)
				}
				pick = &tag
			}
		}
		if pick == nil && len(manifest) > 1 {
			return nil, fmt.Errorf("%w: image %d of %d has no tag to tell it from the others", ErrInvalidArchive, i+1, len(manifest))
		}
		img, err := tarball.Image(open, pick)
		if err != nil {
			return nil, fmt.Errorf("%w: image %d: %v", ErrInvalidArchive, i, err)
		}
		rawConfig, err := img.RawConfigFile()
		if err != nil {
			return nil, fmt.Errorf("%w: image %d: config: %v", ErrInvalidArchive, i, err)
		}
		layers, err := img.Layers()
		if err != nil {
			return nil, fmt.Errorf("%w: image %d: %v", ErrInvalidArchive, i, err)
		}
		blobs := make([]sizedBlob, len(layers))
		for j, l := range layers {
			// The plain tar, as docker saves it: asking for the compressed
			// form would make go-containerregistry gzip it first.
			blobs[j] = sizedBlob{open: l.Uncompressed, size: -1}
		}
		stored, err := s.put(ctx, rawConfig, blobs, tags, nil)
		if err != nil {
			return nil, importErr(err)
		}
		out = append(out, stored)
	}
	return out, nil
}

// importOCIArchive unpacks the layout's files (only those; see
// ociArchiveEntry) into a private directory and stores each image its
// index names, resolving a multi-platform index to this platform.
func (s *Store) importOCIArchive(ctx context.Context, path string) ([]*Image, error) {
	dir, err := os.MkdirTemp(s.dir, ".import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := extractLayout(path, dir); err != nil {
		return nil, err
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidArchive, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w: index.json: %v", ErrInvalidArchive, err)
	}
	if len(im.Manifests) == 0 {
		return nil, fmt.Errorf("%w: index.json lists no image", ErrInvalidArchive)
	}
	var out []*Image
	for _, desc := range im.Manifests {
		img, err := imageFor(idx, desc)
		if err != nil {
			return nil, err
		}
		var tags, digests []string
		if ref := layoutName(desc.Annotations); ref != "" {
			r, err := ParseReference(ref)
			if err != nil {
				return nil, fmt.Errorf("%w: image name %q: %v", ErrInvalidArchive, ref, err)
			}
			if t := r.TagRef(); t != "" {
				tags = append(tags, t)
			}
			digests = append(digests, r.DigestRef(desc.Digest.String()))
		}
		stored, err := s.putImage(ctx, img, tags, digests)
		if err != nil {
			return nil, importErr(err)
		}
		out = append(out, stored)
	}
	return out, nil
}

// imageFor is the image desc names in idx: itself, or this platform's of
// a multi-platform index. The manifest's bytes must be what its digest
// says: that digest becomes the image's registry digest.
func imageFor(idx v1.ImageIndex, desc v1.Descriptor) (v1.Image, error) {
	if desc.MediaType.IsIndex() {
		child, err := idx.ImageIndex(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("%w: index %s: %v", ErrInvalidArchive, desc.Digest, err)
		}
		if err := checkDigest(child.RawManifest, desc.Digest); err != nil {
			return nil, err
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("%w: index %s: %v", ErrInvalidArchive, desc.Digest, err)
		}
		want := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
		for _, d := range cm.Manifests {
			if d.MediaType.IsImage() && d.Platform != nil && d.Platform.Satisfies(want) {
				return imageFor(child, d)
			}
		}
		return nil, fmt.Errorf("%w: index %s has no image for linux/%s", ErrInvalidArchive, desc.Digest, runtime.GOARCH)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: %v", ErrInvalidArchive, desc.Digest, err)
	}
	if err := checkDigest(img.RawManifest, desc.Digest); err != nil {
		return nil, err
	}
	return img, nil
}

func checkDigest(raw func() ([]byte, error), want v1.Hash) error {
	data, err := raw()
	if err != nil {
		return fmt.Errorf("%w: manifest %s: %v", ErrInvalidArchive, want, err)
	}
	sum := sha256.Sum256(data)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != want.String() {
		return fmt.Errorf("%w: manifest %s holds content of digest %s", ErrInvalidArchive, want, got)
	}
	return nil
}

// layoutName is the reference an OCI layout's index gives an image; a
// bare tag ("1.0", as some tools write ref.name) names nothing.
func layoutName(annotations map[string]string) string {
	if n := annotations[annotationImageName]; n != "" {
		return n
	}
	if n := annotations[annotationRefName]; strings.ContainsAny(n, "/:") {
		return n
	}
	return ""
}

// extractLayout writes the OCI layout files of the tar into dir: only
// regular files with the names a layout has, so the archive cannot place
// anything else, anywhere else.
func extractLayout(path, dir string) error {
	return eachEntry(path, func(name string, h *tar.Header, r io.Reader) error {
		if h.Typeflag != tar.TypeReg || !ociArchiveEntry.MatchString(name) {
			return nil
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalidArchive, name, err)
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// importErr marks what the archive got wrong as the archive's fault; the
// store's own errors (a full disk) stay as they are.
func importErr(err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrInvalidArchive) || errors.Is(err, context.Canceled) || fsutil.NoSpace(err) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrInvalidArchive, err)
}

// collectUnused removes the layers no image uses (those a failed import
// stored, and any other failed work's).
func (s *Store) collectUnused() {
	s.mu.Lock()
	trash := s.collectLayersLocked()
	s.mu.Unlock()
	if len(trash) > 0 {
		logrus.WithField("layers", len(trash)).Debug("removed layers no image uses")
	}
	removeAll(trash)
}

// archiveSuffixes are the names ImportDir takes as image archives.
var archiveSuffixes = []string{".tar", ".tar.gz", ".tgz", ".tar.zst"}

// importedFile is how ImportDir remembers an archive it imported.
type importedFile struct {
	Size    int64 `json:"size"`
	ModTime int64 `json:"mtime_ns"`
}

// ImportDir imports each archive in dir (image.import_dir) that it has not
// imported as it is now: a restart does not import the same files again,
// a file replaced is imported anew. An archive that does not import is
// logged and tried again at the next start.
func (s *Store) ImportDir(ctx context.Context, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			logrus.WithError(err).WithField("dir", dir).Warn("image import dir not read")
		}
		return
	}
	record := filepath.Join(s.dir, "imported.json")
	done := map[string]importedFile{}
	if data, err := os.ReadFile(record); err == nil {
		_ = json.Unmarshal(data, &done) // a broken record imports again: harmless
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !slices.ContainsFunc(archiveSuffixes, func(suf string) bool { return strings.HasSuffix(name, suf) }) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		path := filepath.Join(dir, name)
		stamp := importedFile{Size: info.Size(), ModTime: info.ModTime().UnixNano()}
		if done[path] == stamp {
			continue
		}
		log := logrus.WithField("file", path)
		imgs, err := s.Import(ctx, path)
		if err != nil {
			log.WithError(err).Error("image archive not imported")
			continue
		}
		for _, img := range imgs {
			log.WithFields(logrus.Fields{"image": img.ID, "tags": img.RepoTags}).Info("image imported")
		}
		done[path] = stamp
		data, _ := json.Marshal(done)
		if err := fsutil.ReplaceFile(record, data, 0o600); err != nil {
			log.WithError(err).Warn("cannot record the import; it runs again at the next start")
		}
	}
}
