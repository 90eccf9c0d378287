package image

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/berth-dev/berth/config"
)

func TestPullStatusListRemove(t *testing.T) {
	reg := newTestRegistry(t, nil)
	img := testImage(t, v1.Config{User: "1002", Cmd: []string{"sh"}}, tarLayer(t, dir("bin/"), file("bin/a", "a")), tarLayer(t, file("etc/b", "b")))
	repo := reg.push(t, "team/app:v1", img)
	p, s := newPuller(t, nil)

	got := mustPull(t, p, repo+":v1", Auth{})
	wantID, _ := img.ConfigName()
	if got.ID != wantID.String() || len(got.Layers) != 2 || got.Size == 0 {
		t.Fatalf("unexpected image %+v", got)
	}
	manifestDigest, _ := img.Digest()
	if len(got.RepoTags) != 1 || got.RepoTags[0] != reg.host()+"/team/app:v1" ||
		len(got.RepoDigests) != 1 || got.RepoDigests[0] != reg.host()+"/team/app@"+manifestDigest.String() {
		t.Fatalf("names: %v %v", got.RepoTags, got.RepoDigests)
	}
	for _, l := range got.Layers {
		if _, err := os.Stat(s.LayerDir(l)); err != nil {
			t.Fatalf("layer not unpacked: %v", err)
		}
	}
	if data, err := os.ReadFile(filepath.Join(s.LayerDir(got.Layers[0]), "bin/a")); err != nil || string(data) != "a" {
		t.Fatalf("layer content: %q %v", data, err)
	}

	// Every kind of reference finds it.
	hexID := strings.TrimPrefix(got.ID, "sha256:")
	for _, ref := range []string{repo + ":v1", got.ID, hexID, hexID[:12], got.RepoDigests[0]} {
		if found, err := s.Get(ref); err != nil || found.ID != got.ID {
			t.Errorf("Get(%q) = %v, %v", ref, found, err)
		}
	}
	if bytes, inodes := s.Usage(); bytes == 0 || inodes < 4 {
		t.Fatalf("usage %d bytes %d inodes", bytes, inodes)
	}

	// A second tag, then removal tag by tag.
	reg.push(t, "team/app:v2", img)
	mustPull(t, p, repo+":v2", Auth{})
	if imgs := s.List(); len(imgs) != 1 || len(imgs[0].RepoTags) != 2 {
		t.Fatalf("want one image with two tags, got %+v", imgs)
	}
	if err := s.Remove(repo+":v1", nil); err != nil {
		t.Fatal(err)
	}
	if left, err := s.Get(repo + ":v2"); err != nil || len(left.RepoTags) != 1 {
		t.Fatalf("removing one tag must keep the image: %v %v", left, err)
	}
	// The last tag of an image a container uses stays, whole.
	used := func(id string) bool { return id == got.ID }
	if err := s.Remove(repo+":v2", used); !errors.Is(err, ErrInUse) {
		t.Fatalf("removing an image in use: %v; want ErrInUse", err)
	}
	if _, err := s.Get(repo + ":v2"); err != nil {
		t.Fatalf("a refused removal lost the image: %v", err)
	}
	if err := s.Remove(repo+":v2", func(string) bool { return false }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(got.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("image should be gone, got %v", err)
	}
	if err := s.Remove(got.ID, nil); err != nil {
		t.Fatalf("removing a missing image is not an error: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(s.Dir(), "layers"))
	if len(entries) != 0 {
		t.Fatalf("layers left after removing the last image: %v", entries)
	}
	if bytes, inodes := s.Usage(); bytes != 0 || inodes != 0 {
		t.Fatalf("usage after removal: %d %d", bytes, inodes)
	}
}

func TestPullSurvivesReopenAndSharesLayers(t *testing.T) {
	reg := newTestRegistry(t, nil)
	base := tarLayer(t, file("base", "shared"))
	a := reg.push(t, "a:1", testImage(t, v1.Config{}, base, tarLayer(t, file("a", "a"))))
	b := reg.push(t, "b:1", testImage(t, v1.Config{}, base, tarLayer(t, file("b", "b"))))
	p, s := newPuller(t, nil)
	ia := mustPull(t, p, a+":1", Auth{})
	ib := mustPull(t, p, b+":1", Auth{})
	if ia.Layers[0] != ib.Layers[0] {
		t.Fatal("test images should share their base layer")
	}
	entries, _ := os.ReadDir(filepath.Join(s.Dir(), "layers"))
	if len(entries) != 3 {
		t.Fatalf("a shared layer must be stored once: %d layer dirs", len(entries))
	}
	// Removing one image keeps the shared layer for the other.
	if err := s.Remove(a+":1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.LayerDir(ib.Layers[0])); err != nil {
		t.Fatal("shared layer removed with the first image")
	}

	// Reopen: the image, its tags and layers come back; a stray temporary dir
	// (an interrupted unpack) is cleaned.
	stray := filepath.Join(s.Dir(), "layers", ".tmp-deadbeef-1")
	if err := os.MkdirAll(stray, 0o755); err != nil {
		t.Fatal(err)
	}
	s2, err := NewStore(s.Dir(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Get(b + ":1"); err != nil || got.ID != ib.ID {
		t.Fatalf("after reopen: %v %v", got, err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatal("temporary layer dir survived a restart")
	}
}

func TestPullThroughMirrorWithPrefix(t *testing.T) {
	mirror := newTestRegistry(t, nil)
	img := testImage(t, v1.Config{}, tarLayer(t, file("x", "x")))
	mirror.push(t, "upstream.invalid/team/app:v1", img)
	p, s := newPuller(t, map[string]config.RegistryConfig{
		"upstream.invalid": {Mirrors: []string{"127.0.0.1:1/unreachable", mirror.host() + "/upstream.invalid"}},
	})
	got := mustPull(t, p, "upstream.invalid/team/app:v1", Auth{})
	// Names stay the upstream's, whichever location served the image.
	if got.RepoTags[0] != "upstream.invalid/team/app:v1" || !strings.HasPrefix(got.RepoDigests[0], "upstream.invalid/team/app@sha256:") {
		t.Fatalf("names: %v %v", got.RepoTags, got.RepoDigests)
	}
	if _, err := s.Get("upstream.invalid/team/app:v1"); err != nil {
		t.Fatal(err)
	}
}

func TestPullBlockedAndInvalid(t *testing.T) {
	p, _ := newPuller(t, map[string]config.RegistryConfig{"blocked.invalid": {Blocked: true}})
	if _, err := p.Pull(context.Background(), "blocked.invalid/x:1", Auth{}); !errors.Is(err, ErrBlocked) {
		t.Fatalf("want ErrBlocked, got %v", err)
	}
	if _, err := p.Pull(context.Background(), "Not/Valid:ref:x", Auth{}); !errors.Is(err, ErrInvalidReference) {
		t.Fatalf("want ErrInvalidReference, got %v", err)
	}
	reg := newTestRegistry(t, nil)
	if _, err := p.Pull(context.Background(), reg.host()+"/missing:1", Auth{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound for a missing image, got %v", err)
	}
}

func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// isUnauthorized says whether err is a registry's 401.
func isUnauthorized(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusUnauthorized
}

// privateRegistry serves private:1 to alice (password s3cret) only.
func privateRegistry(t *testing.T) *testRegistry {
	t.Helper()
	reg := newTestRegistry(t, basicAuth("alice", "s3cret"))
	img := testImage(t, v1.Config{}, tarLayer(t, file("x", "x")))
	ref, _ := name.ParseReference(reg.host()+"/private:1", name.Insecure)
	if err := remote.Write(ref, img, remote.WithAuth(&staticAuth{"alice", "s3cret"})); err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestPullWithBasicAuth(t *testing.T) {
	reg := privateRegistry(t)
	p, _ := newPuller(t, nil)
	if _, err := p.Pull(context.Background(), reg.host()+"/private:1", Auth{}); !isUnauthorized(err) {
		t.Fatalf("pull without credentials: %v; want the registry's 401", err)
	}
	mustPull(t, p, reg.host()+"/private:1", Auth{Username: "alice", Password: "s3cret"})
	// The "auth" form (base64 user:password) works too.
	p2, _ := newPuller(t, nil)
	mustPull(t, p2, reg.host()+"/private:1", Auth{Auth: base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))})
}

// bearerAuth is the token flow of Docker Hub and most registries: a 401 names
// a token service; the token service checks basic credentials and issues a
// token that the registry then accepts.
func bearerAuth(t *testing.T, user, pass string) func(http.Handler) http.Handler {
	const token = "tok-123"
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				_ = json.NewEncoder(w).Encode(map[string]string{"token": token})
				return
			}
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestPullWithBearerToken(t *testing.T) {
	reg := newTestRegistry(t, bearerAuth(t, "bob", "pw"))
	img := testImage(t, v1.Config{}, tarLayer(t, file("x", "x")))
	ref, _ := name.ParseReference(reg.host()+"/tok:1", name.Insecure)
	if err := remote.Write(ref, img, remote.WithAuth(&staticAuth{"bob", "pw"})); err != nil {
		t.Fatal(err)
	}
	p, _ := newPuller(t, nil)
	if _, err := p.Pull(context.Background(), reg.host()+"/tok:1", Auth{Username: "bob", Password: "wrong"}); !isUnauthorized(err) {
		t.Fatalf("pull with wrong credentials: %v; want a 401", err)
	}
	mustPull(t, p, reg.host()+"/tok:1", Auth{Username: "bob", Password: "pw"})
}

func TestPullInsecureTLSRegistry(t *testing.T) {
	plain := newTestRegistry(t, nil)
	img := testImage(t, v1.Config{}, tarLayer(t, file("x", "x")))
	plain.push(t, "tls:1", img)
	// The same registry content behind a self-signed TLS server on 127.0.0.2,
	// an address the registry client does not treat as plain-HTTP loopback.
	tlsSrv := httptest.NewUnstartedServer(plain.srv.Config.Handler)
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv.Listener = l
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	host := l.Addr().String()

	secure, _ := newPuller(t, nil)
	// (httptest's certificate names 127.0.0.1, not 127.0.0.2, and is signed
	// by its own CA: either refusal is the certificate's verification.)
	var unverified *tls.CertificateVerificationError
	if _, err := secure.Pull(context.Background(), host+"/tls:1", Auth{}); !errors.As(err, &unverified) {
		t.Fatalf("a self-signed registry: %v; want its certificate refused unless marked insecure", err)
	}
	insecure, _ := newPuller(t, map[string]config.RegistryConfig{host: {Insecure: true}})
	mustPull(t, insecure, host+"/tls:1", Auth{})
}

func TestPullMultiPlatformIndex(t *testing.T) {
	reg := newTestRegistry(t, nil)
	amd := testImage(t, v1.Config{Cmd: []string{"amd64"}}, tarLayer(t, file("arch", "amd64")))
	armCfg := testImage(t, v1.Config{Cmd: []string{"arm64"}}, tarLayer(t, file("arch", "arm64")))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: armCfg, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	ref, _ := name.ParseReference(reg.host()+"/multi:1", name.Insecure)
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	p, s := newPuller(t, nil)
	got := mustPull(t, p, reg.host()+"/multi:1", Auth{})
	wantID, _ := amd.ConfigName()
	if got.ID != wantID.String() {
		t.Fatalf("pulled %s, want the amd64 image %s", got.ID, wantID)
	}
	idxDigest, _ := idx.Digest()
	if got.RepoDigests[0] != reg.host()+"/multi@"+idxDigest.String() {
		t.Fatalf("repo digest should be the index's digest (what the user references), got %v", got.RepoDigests)
	}
	// Pulling by the index digest gives the same image.
	if again := mustPull(t, p, reg.host()+"/multi@"+idxDigest.String(), Auth{}); again.ID != got.ID {
		t.Fatal("pull by index digest resolved to another image")
	}
	data, _ := os.ReadFile(filepath.Join(s.LayerDir(got.Layers[0]), "arch"))
	if string(data) != "amd64" {
		t.Fatalf("unpacked the %q layer", data)
	}
}

func TestConcurrentPullsDownloadOnce(t *testing.T) {
	reg := newTestRegistry(t, nil)
	img := testImage(t, v1.Config{}, tarLayer(t, file("1", "1")), tarLayer(t, file("2", "2")), tarLayer(t, file("3", "3")))
	repo := reg.push(t, "conc:1", img)
	reg.blobGets.Store(0)
	p, s := newPuller(t, nil)
	// The first pull's download is held until all eight wait on it.
	release := reg.holdBlobs(t)

	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = mustPull(t, p, repo+":1", Auth{}).ID
		}()
	}
	waitUntil(t, func() bool { return p.waiters(repo+":1") == len(ids) })
	release()
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("pulls disagree: %v", ids)
		}
	}
	// One config blob plus three layers, fetched once in all.
	if n := reg.blobGets.Load(); n != 4 {
		t.Fatalf("%d blob downloads for 8 concurrent pulls, want 4", n)
	}
	if len(s.List()) != 1 {
		t.Fatal("want one image")
	}
}

// A pull whose caller goes away midway leaves nothing a later pull trusts:
// no image record, no layer directory, no temporary directory; the retry
// then succeeds.
func TestPullCancelledMidwayThenRetried(t *testing.T) {
	reg := newTestRegistry(t, nil)
	img := testImage(t, v1.Config{}, tarLayer(t, file("1", strings.Repeat("x", 1<<20))), tarLayer(t, file("2", "2")))
	repo := reg.push(t, "cancel:1", img)
	p, s := newPuller(t, nil)
	release := reg.holdBlobs(t)

	// The caller goes away once the download is under way.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-reg.blobAsked
		cancel()
	}()
	if _, err := p.Pull(ctx, repo+":1", Auth{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("want Canceled, got %v", err)
	}
	release()
	// The abandoned download winds down in the background.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		n := len(p.inflight)
		p.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cancelled pull still in flight")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(s.List()) != 0 {
		t.Fatal("a cancelled pull left an image record")
	}
	entries, _ := os.ReadDir(filepath.Join(s.Dir(), "layers"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Fatalf("temporary dir left: %s", e.Name())
		}
	}

	got := mustPull(t, p, repo+":1", Auth{})
	if len(got.Layers) != 2 {
		t.Fatal("retry did not complete")
	}
}

func TestPullWithoutProgressIsCancelled(t *testing.T) {
	reg := newTestRegistry(t, nil)
	repo := reg.push(t, "stall:1", testImage(t, v1.Config{}, tarLayer(t, file("1", "1"))))
	reg.holdBlobs(t) // the registry stops sending: no progress
	s := newStore(t)
	p := NewPuller(s, nil, 500*time.Millisecond)
	_, err := p.Pull(context.Background(), repo+":1", Auth{})
	if !errors.Is(err, ErrNoProgress) {
		t.Fatalf("want ErrNoProgress, got %v", err)
	}
	if !strings.Contains(err.Error(), "no progress for 500ms") {
		t.Fatalf("the error should say how long it waited: %v", err)
	}
}

// waiters counts the callers waiting on the pull of ref in flight.
func (p *Puller) waiters(ref string) int {
	r, err := ParseReference(ref)
	if err != nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl := p.inflight[r.String()]; pl != nil {
		return pl.waiters
	}
	return 0
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
	}
}

type staticAuth struct{ user, pass string }

func (a *staticAuth) Authorization() (*Auth, error) {
	return &Auth{Username: a.user, Password: a.pass}, nil
}

// A registry cannot make berth read a huge manifest or config into memory,
// or stack more layers than overlayfs can: such images are refused with
// ErrTooLarge before what they name is downloaded, and leave nothing.
func TestPullRefusesOversizedImages(t *testing.T) {
	reg := newTestRegistry(t, nil)
	small := tarLayer(t, file("x", "x"))
	bigLabel := strings.Repeat("x", maxConfigSize+1)
	cases := map[string]v1.Image{
		"config over 4 MiB": testImage(t, v1.Config{Labels: map[string]string{"big": bigLabel}}, small),
		"manifest over 4 MiB": mutate.Annotations(testImage(t, v1.Config{}, small),
			map[string]string{"big": strings.Repeat("y", maxManifestSize+1)}).(v1.Image),
	}
	many := make([]v1.Layer, maxLayers+1)
	for i := range many {
		many[i] = small
	}
	cases["more layers than overlayfs stacks"] = testImage(t, v1.Config{}, many...)
	for name, img := range cases {
		t.Run(name, func(t *testing.T) {
			repo := reg.push(t, "big:1", img)
			reg.blobGets.Store(0)
			p, s := newPuller(t, nil)
			_, err := p.Pull(context.Background(), repo+":1", Auth{})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("pull: %v; want ErrTooLarge", err)
			}
			if n := reg.blobGets.Load(); n != 0 {
				t.Errorf("%d blobs downloaded before the refusal", n)
			}
			if len(s.List()) != 0 {
				t.Error("an image record was left")
			}
			if entries, _ := os.ReadDir(filepath.Join(s.Dir(), "layers")); len(entries) != 0 {
				t.Errorf("layers left: %v", entries)
			}
		})
	}
}

// A manifest sent without its length (or with a false one) is bounded as
// it is read.
func TestBoundedBody(t *testing.T) {
	b := &boundedBody{ReadCloser: io.NopCloser(strings.NewReader(strings.Repeat("m", 100))), left: 40, what: "the manifest"}
	if _, err := io.ReadAll(b); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("reading past the bound: %v, want ErrTooLarge", err)
	}
	ok := &boundedBody{ReadCloser: io.NopCloser(strings.NewReader("small")), left: 40}
	if data, err := io.ReadAll(ok); err != nil || string(data) != "small" {
		t.Fatalf("under the bound: %q, %v", data, err)
	}
}

// The node's auth file is used when the pull carries no credentials, for
// the location pulled from; credentials kubelet sends win over it.
func TestPullWithTheNodesAuthFile(t *testing.T) {
	reg := privateRegistry(t)
	path := filepath.Join(t.TempDir(), "auth.json")
	creds := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	if err := os.WriteFile(path, fmt.Appendf(nil, `{"auths": {%q: {"auth": %q}}}`, reg.host(), creds), 0o600); err != nil {
		t.Fatal(err)
	}
	af, err := LoadAuthFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := newPuller(t, nil)
	if _, err := p.Pull(context.Background(), reg.host()+"/private:1", Auth{}); !isUnauthorized(err) {
		t.Fatalf("pull without credentials nor auth file: %v; want the registry's 401", err)
	}
	p.SetAuthFile(af)
	if _, err := p.Pull(context.Background(), reg.host()+"/private:1", Auth{Username: "alice", Password: "wrong"}); !isUnauthorized(err) {
		t.Fatalf("pull with wrong credentials of its own: %v; want the registry's 401, not the auth file's", err)
	}
	mustPull(t, p, reg.host()+"/private:1", Auth{})

	for name, body := range map[string]string{"not JSON": "{", "no file": ""} {
		bad := filepath.Join(t.TempDir(), "auth.json")
		if body != "" {
			if err := os.WriteFile(bad, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := LoadAuthFile(bad); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}
