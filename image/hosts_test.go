package image

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/testpki"
)

// tlsRegistry serves h over HTTPS on 127.0.0.2 (an address the registry
// client does not treat as plain-HTTP loopback) with a certificate of ca;
// with clientCerts it refuses clients without one ca signed.
func tlsRegistry(t *testing.T, ca *testpki.CA, h http.Handler, clientCerts bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = l
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t, net.ParseIP("127.0.0.2"))}, MinVersion: tls.VersionTLS12}
	if clientCerts {
		srv.TLS.ClientCAs, srv.TLS.ClientAuth = ca.Pool(), tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return l.Addr().String()
}

// imageOverTLS serves a one-layer image as repo over TLS (tlsRegistry)
// and returns the registry's host and the image's reference.
func imageOverTLS(t *testing.T, ca *testpki.CA, repo string, clientCerts bool) (host, ref string) {
	t.Helper()
	plain := newTestRegistry(t, nil)
	plain.push(t, repo, testImage(t, v1.Config{}, tarLayer(t, file("x", "x"))))
	host = tlsRegistry(t, ca, plain.srv.Config.Handler, clientCerts)
	return host, host + "/" + repo
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPullTLSRegistryWithItsOwnCA(t *testing.T) {
	ca := testpki.New(t)
	host, ref := imageOverTLS(t, ca, "tls:1", false)

	certs := t.TempDir()
	p, _ := newPuller(t, nil)
	p.SetHostsDir(HostsDir(certs))
	var unverified *tls.CertificateVerificationError
	if _, err := p.Pull(context.Background(), ref, Auth{}); !errors.As(err, &unverified) {
		t.Fatalf("a registry whose CA the node lacks: %v; want its certificate refused", err)
	}
	// docker's layout: <dir>/<host:port>/ca.crt.
	writeFiles(t, certs, map[string][]byte{host + "/ca.crt": ca.CAPEM})
	mustPull(t, p, ref, Auth{})

	// containerd's: hosts.toml naming the CA, in a directory "<ip>_<port>_".
	certs2 := t.TempDir()
	ip, port, _ := net.SplitHostPort(host)
	writeFiles(t, certs2, map[string][]byte{
		ip + "_" + port + "_/hosts.toml": []byte(`ca = "my-ca.pem"`),
		ip + "_" + port + "_/my-ca.pem":  ca.CAPEM,
	})
	p2, _ := newPuller(t, nil)
	p2.SetHostsDir(HostsDir(certs2))
	mustPull(t, p2, ref, Auth{})
}

func TestPullRegistryRequiringAClientCertificate(t *testing.T) {
	ca := testpki.New(t)
	host, ref := imageOverTLS(t, ca, "mtls:1", true)
	clientCert, clientKey := ca.Client(t)

	certs := t.TempDir()
	writeFiles(t, certs, map[string][]byte{host + "/ca.crt": ca.CAPEM})
	p, _ := newPuller(t, nil)
	p.SetHostsDir(HostsDir(certs))
	if _, err := p.Pull(context.Background(), ref, Auth{}); err == nil {
		t.Fatal("pulled without a client certificate from a registry that requires one")
	}
	writeFiles(t, certs, map[string][]byte{host + "/client.cert": clientCert, host + "/client.key": clientKey})
	mustPull(t, p, ref, Auth{})

	// A certificate without its key is the operator's mistake, said as such.
	os.Remove(filepath.Join(certs, host, "client.key"))
	p2, _ := newPuller(t, nil)
	p2.SetHostsDir(HostsDir(certs))
	if _, err := p2.Pull(context.Background(), ref, Auth{}); !errors.Is(err, ErrRegistryConfig) || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("client.cert without client.key: %v; want a registry configuration error", err)
	}

	// hosts.toml's forms: a [cert, key] pair, and one file holding both.
	for name, client := range map[string]string{
		"pair":     `client = [["c.pem", "k.pem"]]`,
		"one file": `client = "both.pem"`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string][]byte{
				"_default/hosts.toml": []byte("ca = \"" + filepath.Join(certs, host, "ca.crt") + "\"\n" + client),
				"_default/c.pem":      clientCert,
				"_default/k.pem":      clientKey,
				"_default/both.pem":   append(append([]byte{}, clientCert...), clientKey...),
			})
			p, _ := newPuller(t, nil)
			p.SetHostsDir(HostsDir(dir))
			mustPull(t, p, ref, Auth{})
		})
	}
}

// TestPullThroughHostsTomlMirror: the registry itself is down; its
// hosts.toml sends pulls to a mirror that serves the API under a path and
// wants a header, and to a pull-only host that may serve digests only.
func TestPullThroughHostsTomlMirror(t *testing.T) {
	img := testImage(t, v1.Config{}, tarLayer(t, file("m", "mirror")))
	var pullOnlyAsked, mirrorAsked atomic.Int32
	pullOnly := newTestRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v2/" {
				pullOnlyAsked.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	// The mirror serves the content of another registry under /cache/v2,
	// to those who send its token.
	content := newTestRegistry(t, nil)
	content.push(t, "library/app:1", img)
	mirrorSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Mirror-Token") != "s3cret" {
			http.Error(w, "no token", http.StatusForbidden)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/cache/v2")
		if !ok {
			http.NotFound(w, r)
			return
		}
		mirrorAsked.Add(1)
		r.URL.Path = "/v2" + rest
		content.srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(mirrorSrv.Close)
	mirror := strings.TrimPrefix(mirrorSrv.URL, "http://")
	pullOnly.push(t, "library/app:1", img)
	pullOnlyAsked.Store(0)

	down, _ := net.Listen("tcp", "127.0.0.1:0")
	origin := down.Addr().String()
	down.Close()

	certs := t.TempDir()
	writeFiles(t, certs, map[string][]byte{origin + "/hosts.toml": []byte(`
[host."http://` + pullOnly.host() + `"]
  capabilities = ["pull"]
[host."http://` + mirror + `/cache"]
  capabilities = ["pull", "resolve"]
  [host."http://` + mirror + `/cache".header]
    x-mirror-token = "s3cret"
`)})
	p, _ := newPuller(t, nil)
	p.SetHostsDir(HostsDir(certs))
	got := mustPull(t, p, origin+"/library/app:1", Auth{})
	if pullOnlyAsked.Load() != 0 || mirrorAsked.Load() == 0 {
		t.Fatalf("a tag: the pull-only host was asked %d times, the mirror %d; want only the mirror", pullOnlyAsked.Load(), mirrorAsked.Load())
	}
	d, _ := img.Digest()
	mirrorAsked.Store(0)
	again := mustPull(t, p, origin+"/library/app@"+d.String(), Auth{})
	if pullOnlyAsked.Load() == 0 || mirrorAsked.Load() != 0 || again.ID != got.ID {
		t.Fatalf("a digest: the pull-only host was asked %d times, the mirror %d; want the pull-only host first", pullOnlyAsked.Load(), mirrorAsked.Load())
	}
}

func TestHostsDirLookup(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string][]byte{
		"reg.example_5000_/hosts.toml": []byte(`server = "https://underscored.example"`),
		"reg.example:5000/hosts.toml":  []byte(`server = "https://colon.example"`),
		"only.example:443/hosts.toml":  []byte(`server = "https://colon-only.example"`),
		"_default/hosts.toml":          []byte(`server = "https://default.example"`),
		"bad.example/hosts.toml":       []byte(`server = `),
		"caps.example/hosts.toml":      []byte(`capabilities = ["pull", "fly"]`),
	})
	for host, want := range map[string]string{
		"reg.example:5000": "underscored.example",
		"only.example:443": "colon-only.example",
		"other.example":    "default.example",
	} {
		got, err := HostsDir(root).lookup(host)
		if err != nil || got.server.host != want {
			t.Errorf("lookup(%s) = %q, %v; want the server of %s", host, got.server.host, err, want)
		}
	}
	for _, host := range []string{"bad.example", "caps.example"} {
		if _, err := HostsDir(root).lookup(host); !errors.Is(err, ErrRegistryConfig) || !strings.Contains(err.Error(), host) {
			t.Errorf("lookup(%s): %v; want a registry configuration error naming the file", host, err)
		}
	}
	if got, err := HostsDir(filepath.Join(root, "absent")).lookup("x.example"); err != nil || got.server.host != "" || !got.server.pull {
		t.Errorf("no certs.d: %+v, %v; want the registry itself", got, err)
	}
}

func TestParseHostsToml(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{"hosts.toml": []byte(`
server = "registry.example"
ca = ["/etc/pki/a.pem", "b.pem"]
skip_verify = true

[host."https://m2.example/v2/team"]
  override_path = true
  dial_timeout = "3s"
[host."http://m1.example:5000/cache"]
  capabilities = ["pull"]
  client = ["both.pem", ["c.pem", "/abs/k.pem"]]
  [host."http://m1.example:5000/cache".header]
    x-one = "1"
    x-two = ["a", "b"]
`)})
	got, err := loadHostDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := registryHosts{
		mirrors: []registryHost{
			{host: "m2.example", apiRoot: "/v2/team", pull: true, resolve: true, header: http.Header{}, dialTimeout: 3 * time.Second},
			{host: "m1.example:5000", plain: true, apiRoot: "/cache/v2", pull: true,
				clientPairs: [][2]string{{filepath.Join(dir, "both.pem"), ""}, {filepath.Join(dir, "c.pem"), "/abs/k.pem"}},
				header:      http.Header{"x-one": {"1"}, "x-two": {"a", "b"}}},
		},
		server: registryHost{host: "registry.example", apiRoot: "/v2", pull: true, resolve: true,
			caFiles: []string{"/etc/pki/a.pem", filepath.Join(dir, "b.pem")}, skipVerify: true, header: http.Header{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", got, want)
	}
}

// TestBerthTomlMirrorUsesItsCertsDir: berth.toml's mirrors have no place
// for a CA; the mirror's own certs.d directory gives it.
func TestBerthTomlMirrorUsesItsCertsDir(t *testing.T) {
	ca := testpki.New(t)
	mirror, _ := imageOverTLS(t, ca, "library/app:1", false)
	certs := t.TempDir()
	writeFiles(t, certs, map[string][]byte{mirror + "/ca.crt": ca.CAPEM})
	p, _ := newPuller(t, map[string]config.RegistryConfig{"registry.invalid": {Mirrors: []string{mirror}}})
	p.SetHostsDir(HostsDir(certs))
	mustPull(t, p, "registry.invalid/library/app:1", Auth{})
}

func TestHostsDirSummary(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string][]byte{
		"registry.k8s.io/hosts.toml": []byte("[host.\"http://10.0.0.9:5000\"]\n  capabilities = [\"pull\"]\n  ca = \"ca.pem\"\n"),
		"docker.example/ca.crt":      []byte("x"),
		"bad.example/hosts.toml":     []byte("server = "),
	})
	got := HostsDir(root).Summary()
	want := map[string][]string{
		"registry.k8s.io": {"http://10.0.0.9:5000/v2 (pull, ca)", "the registry itself (pull, resolve)"},
		"docker.example":  {"the registry itself (pull, resolve, ca)"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if bad := got["bad.example"]; len(bad) != 1 || !strings.HasPrefix(bad[0], "error: ") {
		t.Errorf("a broken hosts.toml: %q, want its error", bad)
	}
	if s := HostsDir(filepath.Join(root, "absent")).Summary(); len(s) != 0 {
		t.Errorf("no certs.d: %q", s)
	}
}
