package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch stamps every file, layer and image: builds must be reproducible.
var epoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// tree is the content of one layer, keyed by path relative to the root
// ("bin/busybox"). All entries belong to root:root.
type tree map[string]*entry

// entry is one file of a tree: its tar header and, for a regular file, data.
type entry struct {
	tar.Header
	data []byte
}

func (t tree) add(e *entry) {
	e.Name = strings.Trim(path.Clean(e.Name), "/")
	e.ModTime = epoch
	e.Format = tar.FormatPAX
	// Missing parents are added as 0755 directories, like a Dockerfile's COPY.
	for dir := path.Dir(e.Name); dir != "."; dir = path.Dir(dir) {
		if _, ok := t[dir]; !ok {
			t[dir] = &entry{Header: tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}}
		}
	}
	t[e.Name] = e
}

// dir adds a directory with permission bits mode (which may hold the sticky
// bit, as for /tmp).
func (t tree) dir(name string, mode int64) {
	t.add(&entry{Header: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}})
}

// file adds a regular file; mode may hold the setuid bit.
func (t tree) file(name string, mode int64, data []byte) {
	t.add(&entry{Header: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}, data: data})
}

// symlink adds a symbolic link name -> target.
func (t tree) symlink(name, target string) {
	t.add(&entry{Header: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}})
}

// hardlink adds name as another name of the file at target (a path in the
// same layer).
func (t tree) hardlink(name, target string) {
	t.add(&entry{Header: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: strings.Trim(path.Clean(target), "/")}})
}

// tar writes the tree as a tar archive: directories with a trailing slash,
// entries in path order, hard links last so that their targets come first.
func (t tree) tar() ([]byte, error) {
	names := make([]string, 0, len(t))
	for name := range t {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		li, lj := t[names[i]].Typeflag == tar.TypeLink, t[names[j]].Typeflag == tar.TypeLink
		if li != lj {
			return lj
		}
		return names[i] < names[j]
	})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range names {
		h := t[name].Header
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		if h.Typeflag == tar.TypeLink {
			target, ok := t[h.Linkname]
			if !ok || target.Typeflag != tar.TypeReg {
				return nil, fmt.Errorf("hard link %s: %s is not a regular file of the layer", name, h.Linkname)
			}
			// As GNU tar and Docker write them: some extractors chmod the
			// link (so its target) to this mode.
			h.Mode, h.Uid, h.Gid = target.Mode, target.Uid, target.Gid
		}
		if err := tw.WriteHeader(&h); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(t[name].data); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// layer returns the tree as a gzip-compressed OCI layer. Compression is done
// here, with a fixed gzip header, so the digest depends on the tree alone.
func (t tree) layer() (v1.Layer, error) {
	raw, err := t.tar()
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &memLayer{raw: raw, gz: gz.Bytes(), digest: sha256Hash(gz.Bytes()), diffID: sha256Hash(raw)}, nil
}

// memLayer is a layer held in memory, compressed and not.
type memLayer struct {
	raw, gz        []byte
	digest, diffID v1.Hash
}

func (l *memLayer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *memLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *memLayer) Size() (int64, error)     { return int64(len(l.gz)), nil }
func (l *memLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.gz)), nil
}
func (l *memLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.raw)), nil
}
func (l *memLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

func sha256Hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// step is one layer of an image with the history line describing it.
type step struct {
	layer     v1.Layer
	createdBy string
}

// newImage assembles an OCI image for linux/amd64 from layers and cfg.
func newImage(cfg v1.Config, steps ...step) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	// One Append for all layers: an Append per layer nests an image per
	// layer, which makes an image of hundreds of layers quadratic to serve.
	adds := make([]mutate.Addendum, 0, len(steps))
	for _, s := range steps {
		adds = append(adds, mutate.Addendum{
			Layer:     s.layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: s.createdBy},
		})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture = "amd64"
	cf.OS = "linux"
	cf.Created = v1.Time{Time: epoch}
	cf.Config = cfg
	return mutate.ConfigFile(img, cf)
}
