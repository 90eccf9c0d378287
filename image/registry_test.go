package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/store"
)

// tarEntry is one entry of a test layer.
type tarEntry struct {
	name     string
	typ      byte
	body     string
	linkname string
	mode     int64
	uid, gid int
}

func file(name, body string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeReg, body: body, mode: 0o644}
}
func dir(name string) tarEntry { return tarEntry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeSymlink, linkname: target, mode: 0o777}
}

func tarLayer(t testing.TB, entries ...tarEntry) v1.Layer {
	t.Helper()
	return tarLayerWith(t, entries)
}

// tarLayerWith builds a layer from entries with the given go-containerregistry
// layer options (compression).
func tarLayerWith(t testing.TB, entries []tarEntry, opts ...tarball.LayerOption) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.body)), Linkname: e.linkname, Uid: e.uid, Gid: e.gid, ModTime: time.Unix(946684800, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rawTar is the uncompressed tar of entries.
func rawTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	rc, err := tarLayer(t, entries...).Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func testImage(t testing.TB, cfg v1.Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// testRegistry is an in-process OCI registry on 127.0.0.1 that counts blob
// downloads and can be wrapped (auth, delays).
type testRegistry struct {
	srv      *httptest.Server
	blobGets atomic.Int64
	wrap     func(http.Handler) http.Handler

	gateMu sync.Mutex
	gate   chan struct{} // while set, blob GETs wait for it to close
	// blobAsked gets a value (without blocking) for each blob GET.
	blobAsked chan struct{}
}

// holdBlobs makes blob GETs wait until the returned release is called
// (which the test's cleanup calls too).
func (r *testRegistry) holdBlobs(t testing.TB) (release func()) {
	gate := make(chan struct{})
	r.gateMu.Lock()
	r.gate = gate
	r.gateMu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			r.gateMu.Lock()
			r.gate = nil
			r.gateMu.Unlock()
			close(gate)
		})
	}
	t.Cleanup(release)
	return release
}

func newTestRegistry(t testing.TB, wrap func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	r := &testRegistry{wrap: wrap, blobAsked: make(chan struct{}, 64)}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
			r.blobGets.Add(1)
			select {
			case r.blobAsked <- struct{}{}:
			default:
			}
			r.gateMu.Lock()
			gate := r.gate
			r.gateMu.Unlock()
			if gate != nil {
				<-gate
			}
		}
		inner.ServeHTTP(w, req)
	})
	if wrap != nil {
		h = wrap(h)
	}
	r.srv = httptest.NewServer(h)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *testRegistry) host() string { return strings.TrimPrefix(r.srv.URL, "http://") }

// push uploads img as host/repo:tag and returns host/repo (without the tag).
func (r *testRegistry) push(t testing.TB, repo string, img v1.Image, opts ...remote.Option) string {
	t.Helper()
	ref, err := name.ParseReference(r.host()+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatal(err)
	}
	untagged, _, _ := strings.Cut(repo, ":")
	return r.host() + "/" + untagged
}

func newStore(t testing.TB) *Store {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := NewStore(t.TempDir(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newPuller(t testing.TB, regs map[string]config.RegistryConfig) (*Puller, *Store) {
	s := newStore(t)
	return NewPuller(s, regs, 10*time.Second), s
}

func mustPull(t testing.TB, p *Puller, ref string, auth Auth) *Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	img, err := p.Pull(ctx, ref, auth)
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	return img
}
