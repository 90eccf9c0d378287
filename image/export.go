package image

import (
	"fmt"
	"io"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ExportCheck finds the image ref names and says whether it can be
// exported: each of its layers needs its tar-split record, and the image
// a name to be saved under.
func (s *Store) ExportCheck(ref string) (*Image, error) {
	img, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	if len(img.RepoTags) == 0 && len(img.RepoDigests) == 0 {
		return nil, fmt.Errorf("%w: image %s has no name to save it under", ErrNotExportable, img.ID)
	}
	for _, l := range img.Layers {
		if _, err := os.Stat(s.tarSplitPath(l)); err != nil {
			return nil, noTarSplit(l)
		}
	}
	return img, nil
}

// Export writes the image ref names, under all its tags (or, without
// one, its repository digest), as a docker-archive: what docker load,
// podman load, ctr import and berth image import read. Its layers are
// rebuilt byte for byte, so the archive holds the same image ID and diff
// IDs; the registry's compressed layers are not kept, so its manifest
// digest is the archive's own.
func (s *Store) Export(ref string, w io.Writer) error {
	img, err := s.ExportCheck(ref)
	if err != nil {
		return err
	}
	// Layers in use by an export outlive a concurrent RemoveImage.
	release := s.lease(img.Layers)
	defer release()
	stored, err := partial.UncompressedToImage(storedImage{s, img})
	if err != nil {
		return err
	}
	refs := map[name.Reference]v1.Image{}
	for _, t := range img.RepoTags {
		tag, err := name.NewTag(t)
		if err != nil {
			return fmt.Errorf("tag %s: %w", t, err)
		}
		refs[tag] = stored
	}
	if len(refs) == 0 {
		d, err := name.NewDigest(img.RepoDigests[0])
		if err != nil {
			return fmt.Errorf("digest %s: %w", img.RepoDigests[0], err)
		}
		refs[d] = stored
	}
	return tarball.MultiRefWrite(refs, w)
}

// storedImage is a stored image as go-containerregistry reads one.
type storedImage struct {
	s   *Store
	img *Image
}

func (i storedImage) RawConfigFile() ([]byte, error) { return i.img.Config, nil }

func (i storedImage) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }

func (i storedImage) LayerByDiffID(h v1.Hash) (partial.UncompressedLayer, error) {
	return storedLayer{i.s, h}, nil
}

// storedLayer is a stored layer, its tar rebuilt from the unpacked files.
type storedLayer struct {
	s      *Store
	diffID v1.Hash
}

func (l storedLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

func (l storedLayer) Uncompressed() (io.ReadCloser, error) { return l.s.layerTar(l.diffID.String()) }

func (l storedLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
