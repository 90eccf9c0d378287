package image

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
)

// ErrNotExportable marks a layer stored without the tar-split record an
// export rebuilds it from (stored by a berth before it kept them).
var ErrNotExportable = errors.New("layer cannot be exported")

// noTarSplit is the ErrNotExportable of a layer without its record.
func noTarSplit(diffID string) error {
	return fmt.Errorf("%w: %s was stored without its tar-split record; remove the image and pull or import it again", ErrNotExportable, diffID)
}

func (s *Store) tarSplitDir() string { return filepath.Join(s.dir, "tar-split") }

// tarSplitPath is where a layer's tar-split record lives: beside the
// layer, not in it (the layer dir is a container's lower dir).
func (s *Store) tarSplitPath(diffID string) string {
	return filepath.Join(s.tarSplitDir(), strings.TrimPrefix(diffID, "sha256:")+".json.gz")
}

// dropStrayTarSplits removes the records of layers the store does not
// have (a crash between removing a layer and its record) and unfinished
// ones.
func (s *Store) dropStrayTarSplits() {
	entries, _ := os.ReadDir(s.tarSplitDir())
	for _, e := range entries {
		hexID, ok := strings.CutSuffix(e.Name(), ".json.gz")
		if !ok || strings.HasPrefix(e.Name(), ".") || !s.hasLayer("sha256:"+hexID) {
			os.Remove(filepath.Join(s.tarSplitDir(), e.Name()))
		}
	}
}

// tarSplitWriter writes a layer's record to a temporary file that
// commit moves into place.
type tarSplitWriter struct {
	path   string
	f      *os.File
	gz     *gzip.Writer
	packer storage.Packer
	done   bool
}

func newTarSplitWriter(path string) (*tarSplitWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return nil, err
	}
	gz := gzip.NewWriter(f)
	return &tarSplitWriter{path: path, f: f, gz: gz, packer: storage.NewJSONPacker(gz)}, nil
}

func (w *tarSplitWriter) commit() error {
	err := w.gz.Close()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.path)
	}
	w.done = err == nil
	return err
}

// abort removes the temporary file unless commit moved it into place.
func (w *tarSplitWriter) abort() {
	if !w.done {
		w.f.Close()
		os.Remove(w.f.Name())
	}
}

// layerTar rebuilds a stored layer's tar, byte for byte, from its
// tar-split record and its unpacked files.
func (s *Store) layerTar(diffID string) (io.ReadCloser, error) {
	f, err := os.Open(s.tarSplitPath(diffID))
	if errors.Is(err, os.ErrNotExist) {
		return nil, noTarSplit(diffID)
	}
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tar-split of %s: %w", diffID, err)
	}
	out := asm.NewOutputTarStream(storage.NewPathFileGetter(s.LayerDir(diffID)), storage.NewJSONUnpacker(gz))
	return readCloser{out, func() error { out.Close(); gz.Close(); return f.Close() }}, nil
}

// readCloser is a reader whose Close closes what it reads through.
type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
