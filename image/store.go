package image

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sync/singleflight"

	"github.com/berth-dev/berth/internal/store"
)

// Buckets of the metadata store this package owns.
const (
	imagesBucket = "images"
	layersBucket = "layers"
)

// Image is one image in the store. Its ID is the digest of its config.
type Image struct {
	ID          string          `json:"id"`
	RepoTags    []string        `json:"repoTags,omitempty"`
	RepoDigests []string        `json:"repoDigests,omitempty"`
	Layers      []string        `json:"layers"` // diff IDs, lowest layer first
	Size        uint64          `json:"size"`   // bytes of the compressed layers, as pulled
	Config      json.RawMessage `json:"config"` // the OCI image config as the registry served it
	Pinned      bool            `json:"pinned,omitempty"`
	Pulled      time.Time       `json:"pulled"`
}

// layerUsage is what one unpacked layer occupies on disk.
type layerUsage struct {
	Bytes  uint64 `json:"bytes"`
	Inodes uint64 `json:"inodes"`
}

// Store is the set of images and their unpacked layers under dir:
// dir/layers/<hex of diff ID>/ is an overlay-ready lower directory, and
// dir/layers/.tmp-* are layers being unpacked (removed at start-up).
type Store struct {
	dir string
	db  *store.Store

	mu     sync.Mutex
	images map[string]*Image     // by ID
	usage  map[string]layerUsage // by diff ID
	leases map[string]int        // diff ID → pulls in flight that use it

	// unpacking makes the unpacks of one layer at once (two images that
	// share it pulled together, or an image listing it twice) one unpack.
	unpacking singleflight.Group
	// volatile says, probed once, whether overlay takes "volatile".
	volatile func() bool
}

// NewStore loads the image index and removes what no image references:
// half-unpacked layers from an interrupted pull and layers of removed images.
func NewStore(dir string, db *store.Store) (*Store, error) {
	s := &Store{dir: dir, db: db, images: map[string]*Image{}, usage: map[string]layerUsage{}, leases: map[string]int{}}
	s.volatile = sync.OnceValue(s.probeVolatile)
	if err := os.MkdirAll(s.layersDir(), 0o700); err != nil {
		return nil, err
	}
	err := db.ForEach(imagesBucket, func(id string, data []byte) error {
		var img Image
		if err := json.Unmarshal(data, &img); err != nil {
			return fmt.Errorf("image %s: %w", id, err)
		}
		s.images[img.ID] = &img
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = db.ForEach(layersBucket, func(diffID string, data []byte) error {
		var u layerUsage
		if err := json.Unmarshal(data, &u); err != nil {
			return fmt.Errorf("layer %s: %w", diffID, err)
		}
		s.usage[diffID] = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.dropBrokenImages()
	// An import that berth's end interrupted left its layout dir.
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".import-*"))
	removeAll(leftovers)
	s.collectUnused()
	s.dropStrayTarSplits()
	return s, nil
}

func (s *Store) layersDir() string { return filepath.Join(s.dir, "layers") }

// LayerDir is the unpacked directory of a layer.
func (s *Store) LayerDir(diffID string) string {
	return filepath.Join(s.layersDir(), strings.TrimPrefix(diffID, "sha256:"))
}

// dropBrokenImages forgets images whose layers are not all on disk (a
// deleted directory, a store copied without its layers): a later pull
// fetches them again instead of a container failing to mount.
func (s *Store) dropBrokenImages() {
	for id, img := range s.images {
		for _, l := range img.Layers {
			if _, err := os.Stat(s.LayerDir(l)); err != nil {
				logrus.WithFields(logrus.Fields{"image": id, "layer": l}).Warn("image layer missing on disk; forgetting the image")
				delete(s.images, id)
				_ = s.db.Delete(imagesBucket, id)
				break
			}
		}
	}
}

// collectLayersLocked moves every layer directory (and leftover temporary
// directory) that no image and no pull in flight uses to a trash name, so
// the slow removal can run without the lock. It returns the trash paths.
func (s *Store) collectLayersLocked() []string {
	used := map[string]bool{}
	for _, img := range s.images {
		for _, l := range img.Layers {
			used[strings.TrimPrefix(l, "sha256:")] = true
		}
	}
	for l, n := range s.leases {
		if n > 0 {
			used[strings.TrimPrefix(l, "sha256:")] = true
		}
	}
	entries, err := os.ReadDir(s.layersDir())
	if err != nil {
		logrus.WithError(err).Warn("cannot list image layers for clean-up")
		return nil
	}
	var trash []string
	for _, e := range entries {
		name := e.Name()
		if used[name] || (strings.HasPrefix(name, ".tmp-") && s.leases["sha256:"+strings.SplitN(name[5:], "-", 2)[0]] > 0) {
			continue
		}
		from := filepath.Join(s.layersDir(), name)
		to := filepath.Join(s.layersDir(), ".trash-"+name)
		if strings.HasPrefix(name, ".trash-") {
			to = from
		} else if err := os.Rename(from, to); err != nil {
			logrus.WithError(err).WithField("layer", name).Warn("cannot remove unused layer")
			continue
		}
		trash = append(trash, to)
		if !strings.HasPrefix(name, ".") {
			delete(s.usage, "sha256:"+name)
			_ = s.db.Delete(layersBucket, "sha256:"+name)
			_ = os.Remove(s.tarSplitPath("sha256:" + name))
		}
	}
	return trash
}

func removeAll(paths []string) {
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			logrus.WithError(err).WithField("path", p).Warn("cannot remove")
		}
	}
}

// lease marks layers as in use by a pull until the returned release runs,
// so a concurrent RemoveImage never deletes a layer a pull is about to use.
func (s *Store) lease(diffIDs []string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range diffIDs {
		s.leases[l]++
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range diffIDs {
			if s.leases[l]--; s.leases[l] <= 0 {
				delete(s.leases, l)
			}
		}
	}
}

// layerUsage is what a stored layer takes on disk.
func (s *Store) layerUsage(diffID string) layerUsage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage[diffID]
}

// hasLayer says whether a layer is unpacked and complete.
func (s *Store) hasLayer(diffID string) bool {
	s.mu.Lock()
	_, ok := s.usage[diffID]
	s.mu.Unlock()
	return ok
}

// addLayer records a layer that was just unpacked and moved into place.
func (s *Store) addLayer(diffID string, u layerUsage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Put(layersBucket, diffID, u); err != nil {
		return err
	}
	s.usage[diffID] = u
	return nil
}

// add records a pulled image. Its tags move to it from any image that had
// them (a tag names one image at a time); digests accumulate.
func (s *Store) add(img *Image) (*Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.images[img.ID]
	if cur == nil {
		cur = img
	} else {
		merged := *cur
		merged.RepoTags = union(cur.RepoTags, img.RepoTags)
		merged.RepoDigests = union(cur.RepoDigests, img.RepoDigests)
		merged.Pinned = cur.Pinned || img.Pinned
		cur = &merged
	}
	for _, other := range s.images {
		if other.ID == img.ID || !hasAny(other.RepoTags, img.RepoTags) {
			continue
		}
		moved := *other
		moved.RepoTags = slices.DeleteFunc(slices.Clone(other.RepoTags), func(t string) bool { return slices.Contains(img.RepoTags, t) })
		if err := s.db.Put(imagesBucket, moved.ID, &moved); err != nil {
			return nil, err
		}
		s.images[moved.ID] = &moved
	}
	if err := s.db.Put(imagesBucket, cur.ID, cur); err != nil {
		return nil, err
	}
	s.images[cur.ID] = cur
	return cur, nil
}

// Get finds an image by tag ("repo:tag", short names normalized), digest
// reference ("repo@sha256:..."), ID ("sha256:<hex>" or "<hex>") or a unique
// prefix of the ID's hex. The store replaces records instead of changing
// them, so callers may keep the result but must not modify it.
func (s *Store) Get(ref string) (*Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getLocked(ref)
}

func (s *Store) getLocked(ref string) (*Image, error) {
	if img := s.images[ref]; img != nil {
		return img, nil
	}
	if img := s.images["sha256:"+ref]; img != nil {
		return img, nil
	}
	if r, err := ParseReference(ref); err == nil {
		for _, img := range s.images {
			if (r.Digest != "" && slices.Contains(img.RepoDigests, r.DigestRef(r.Digest))) ||
				(r.Digest == "" && slices.Contains(img.RepoTags, r.TagRef())) {
				return img, nil
			}
		}
	}
	// A unique prefix of the ID, as crictl accepts; at least 3 hex digits.
	prefix := strings.TrimPrefix(ref, "sha256:")
	if len(prefix) >= 3 && isHex(prefix) {
		var found *Image
		for id, img := range s.images {
			if strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), prefix) {
				if found != nil {
					return nil, fmt.Errorf("%w: %q matches more than one image", ErrNotFound, ref)
				}
				found = img
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, ref)
}

// List returns every image, sorted by ID.
func (s *Store) List() []*Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Image, 0, len(s.images))
	for _, img := range s.images {
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Remove removes what ref names. A tag is removed alone while the image has
// other tags; the last tag, a digest reference or the ID remove the image
// with all its names, unless inUse (if not nil) says a container uses it:
// that is ErrInUse. Removing what is not there is not an error. Layers no
// other image uses are deleted.
func (s *Store) Remove(ref string, inUse func(imageID string) bool) error {
	s.mu.Lock()
	img, err := s.getLocked(ref)
	if err != nil {
		s.mu.Unlock()
		return nil
	}
	if r, perr := ParseReference(ref); perr == nil && r.Digest == "" && slices.Contains(img.RepoTags, r.TagRef()) && len(img.RepoTags) > 1 {
		untagged := *img
		untagged.RepoTags = slices.DeleteFunc(slices.Clone(img.RepoTags), func(t string) bool { return t == r.TagRef() })
		err := s.db.Put(imagesBucket, img.ID, &untagged)
		if err == nil {
			s.images[img.ID] = &untagged
		}
		s.mu.Unlock()
		return err
	}
	if inUse != nil && inUse(img.ID) {
		s.mu.Unlock()
		return fmt.Errorf("%w: image %s is used by a container; remove the container first", ErrInUse, img.ID)
	}
	if err := s.db.Delete(imagesBucket, img.ID); err != nil {
		s.mu.Unlock()
		return err
	}
	delete(s.images, img.ID)
	trash := s.collectLayersLocked()
	s.mu.Unlock()
	logrus.WithField("image", img.ID).Info("image removed")
	removeAll(trash)
	return nil
}

// Usage is the disk use of all unpacked layers, computed at unpack time so
// that kubelet's frequent ImageFsInfo calls cost no disk walk.
func (s *Store) Usage() (bytes, inodes uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.usage {
		bytes += u.Bytes
		inodes += u.Inodes
	}
	return bytes, inodes
}

// Dir is the directory holding the store (its filesystem is the image fs).
func (s *Store) Dir() string { return s.dir }

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
