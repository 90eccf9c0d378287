package image

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/sirupsen/logrus"
)

// HostsDir is a certs.d directory in containerd's layout (image.certs_dir),
// so an operator can reuse what they wrote for containerd or docker. Each
// registry has a directory named after it: "<host>_<port>_" or
// "<host>:<port>" (or "<host>" without a port), and "_default" serves
// every registry that has none. It holds either a hosts.toml:
//
//	server = "https://registry.example.com"   # default: the registry itself
//	ca = "ca.pem"                             # relative to the directory
//	[host."https://mirror.example.com"]       # tried first, in file order
//	  capabilities = ["pull", "resolve"]
//	  client = [["client.cert", "client.key"]]
//	  skip_verify = false
//	  override_path = false                   # path is the API root, not <path>/v2
//	  [host."https://mirror.example.com".header]
//	    x-mirror-token = "abc"
//
// or, without hosts.toml, docker's files: every *.crt is a CA, every *.cert
// a client certificate with its key in the *.key of the same name.
//
// The files are read at every pull: a change applies to the next pull.
type HostsDir string

// hostsFile is the registry's whole hosts.toml; the server's own settings
// sit at the top level.
type hostsFile struct {
	Server string `toml:"server"`
	hostSettings
	Hosts map[string]hostSettings `toml:"host"`
}

// hostSettings is one [host."url"] table (or the top level, for the server).
type hostSettings struct {
	Capabilities []string       `toml:"capabilities"`
	CA           any            `toml:"ca"`     // a path or a list of paths
	Client       any            `toml:"client"` // a path (cert and key in one file), a list of them, or a list of [cert, key]
	SkipVerify   *bool          `toml:"skip_verify"`
	Header       map[string]any `toml:"header"` // a value or a list of values
	OverridePath bool           `toml:"override_path"`
	DialTimeout  string         `toml:"dial_timeout"`
}

// registryHost is one place a registry's images can be fetched from, as
// the registry's directory describes it.
type registryHost struct {
	host    string // host[:port]; "" for the registry itself
	plain   bool   // an http:// URL: plain HTTP allowed
	apiRoot string // where the registry API lives on host; "/v2" per the spec

	pull, resolve bool

	caFiles     []string
	clientPairs [][2]string // cert, key ("" when the key is in the cert's file)
	skipVerify  bool
	header      http.Header
	dialTimeout time.Duration
}

// registryHosts is what a registry's directory says: hosts to try first,
// then the server.
type registryHosts struct {
	mirrors []registryHost
	server  registryHost
}

// hostDirs are the names a registry's directory may have, most specific
// first: containerd writes ":" as "_port_" so the names work everywhere.
func hostDirs(host string) []string {
	names := []string{host}
	if i := strings.LastIndex(host, ":"); i > 0 {
		names = []string{host[:i] + "_" + host[i+1:] + "_", host}
	}
	return append(names, "_default")
}

// lookup reads the directory of registry host. A registry without one (or
// a HostsDir of "") gets the defaults: the registry itself, every
// capability, the system's CAs.
func (d HostsDir) lookup(host string) (registryHosts, error) {
	def := registryHosts{server: registryHost{apiRoot: "/v2", pull: true, resolve: true}}
	if d == "" {
		return def, nil
	}
	for _, name := range hostDirs(host) {
		dir := filepath.Join(string(d), name)
		st, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return def, fmt.Errorf("%w: %v", ErrRegistryConfig, err)
		}
		if !st.IsDir() {
			continue
		}
		hosts, err := loadHostDir(dir)
		if err != nil {
			return def, fmt.Errorf("%w: %v", ErrRegistryConfig, err)
		}
		return hosts, nil
	}
	return def, nil
}

// loadHostDir reads one registry's directory.
func loadHostDir(dir string) (registryHosts, error) {
	file := filepath.Join(dir, "hosts.toml")
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return dockerCertFiles(dir)
	}
	if err != nil {
		return registryHosts{}, err
	}
	var hf hostsFile
	md, err := toml.Decode(string(data), &hf)
	if err != nil {
		// A broken file stops the pull rather than being skipped: falling
		// back to the registry itself would bypass the mirrors an
		// air-gapped node depends on.
		return registryHosts{}, fmt.Errorf("%s: %w", file, err)
	}
	if extra := md.Undecoded(); len(extra) > 0 {
		logrus.WithField("file", file).Warnf("hosts.toml: ignoring unknown keys %v", extra)
	}
	var out registryHosts
	for _, u := range hostOrder(md) {
		h, err := parseHost(dir, u, hf.Hosts[u])
		if err != nil {
			return registryHosts{}, fmt.Errorf("%s: host %q: %w", file, u, err)
		}
		out.mirrors = append(out.mirrors, h)
	}
	if out.server, err = parseHost(dir, hf.Server, hf.hostSettings); err != nil {
		return registryHosts{}, fmt.Errorf("%s: server: %w", file, err)
	}
	return out, nil
}

// hostOrder lists the [host."url"] tables in the order the file has them
// (the order they are tried in); a map keeps none.
func hostOrder(md toml.MetaData) []string {
	var order []string
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		if len(k) >= 2 && k[0] == "host" && !seen[k[1]] {
			seen[k[1]] = true
			order = append(order, k[1])
		}
	}
	return order
}

// parseHost turns one table into a registryHost; rawURL "" is the
// registry itself.
func parseHost(dir, rawURL string, s hostSettings) (registryHost, error) {
	h := registryHost{apiRoot: "/v2", header: http.Header{}}
	if rawURL != "" {
		if !strings.HasPrefix(rawURL, "http://") && !strings.HasPrefix(rawURL, "https://") {
			rawURL = "https://" + rawURL
		}
		u, err := url.Parse(rawURL)
		if err != nil {
			return h, err
		}
		if u.Host == "" {
			return h, fmt.Errorf("no host in %q", rawURL)
		}
		h.host, h.plain = u.Host, u.Scheme == "http"
		switch p := path.Clean("/" + u.Path); {
		case s.OverridePath:
			h.apiRoot = p
		case p != "/" && !strings.HasSuffix(p, "/v2"):
			h.apiRoot = p + "/v2"
		case p != "/":
			h.apiRoot = p
		}
	}
	if len(s.Capabilities) == 0 {
		h.pull, h.resolve = true, true
	}
	for _, c := range s.Capabilities {
		switch strings.ToLower(c) {
		case "pull":
			h.pull = true
		case "resolve":
			h.resolve = true
		case "push": // berth never pushes
		default:
			return h, fmt.Errorf("unknown capability %q (pull, resolve or push)", c)
		}
	}
	var err error
	if h.caFiles, err = stringList(s.CA, "ca"); err != nil {
		return h, err
	}
	for i, f := range h.caFiles {
		h.caFiles[i] = inDir(dir, f)
	}
	if h.clientPairs, err = clientPairs(dir, s.Client); err != nil {
		return h, err
	}
	if s.SkipVerify != nil {
		h.skipVerify = *s.SkipVerify
	}
	for k, v := range s.Header {
		vals, err := stringList(v, "header "+k)
		if err != nil {
			return h, err
		}
		h.header[k] = vals
	}
	if s.DialTimeout != "" {
		if h.dialTimeout, err = time.ParseDuration(s.DialTimeout); err != nil {
			return h, fmt.Errorf("dial_timeout: %w", err)
		}
	}
	return h, nil
}

// stringList reads a TOML value that is a string or a list of strings.
func stringList(v any, key string) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s: %v is not a string", key, e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: want a string or a list of strings, got %T", key, v)
}

// clientPairs reads "client": a file holding both certificate and key, a
// list of such files, or a list of [cert, key] pairs.
func clientPairs(dir string, v any) ([][2]string, error) {
	if s, ok := v.(string); ok {
		return [][2]string{{inDir(dir, s), ""}}, nil
	}
	list, ok := v.([]any)
	if v != nil && !ok {
		return nil, fmt.Errorf("client: want a path or a list, got %T", v)
	}
	var out [][2]string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, [2]string{inDir(dir, s), ""})
			continue
		}
		pair, err := stringList(e, "client")
		if err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("client: %v is neither a path nor a [cert, key] pair", e)
		}
		out = append(out, [2]string{inDir(dir, pair[0]), inDir(dir, pair[1])})
	}
	return out, nil
}

// inDir resolves a path of hosts.toml against the registry's directory.
func inDir(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// dockerCertFiles reads docker's layout: *.crt are CAs, *.cert client
// certificates with their keys in *.key.
func dockerCertFiles(dir string) (registryHosts, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return registryHosts{}, err
	}
	h := registryHost{apiRoot: "/v2", pull: true, resolve: true}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch name := e.Name(); filepath.Ext(name) {
		case ".crt":
			h.caFiles = append(h.caFiles, filepath.Join(dir, name))
		case ".cert":
			key := filepath.Join(dir, strings.TrimSuffix(name, ".cert")+".key")
			if _, err := os.Stat(key); err != nil {
				return registryHosts{}, fmt.Errorf("client certificate %s has no key: %w", filepath.Join(dir, name), err)
			}
			h.clientPairs = append(h.clientPairs, [2]string{filepath.Join(dir, name), key})
		}
	}
	return registryHosts{server: h}, nil
}

// customTLS reports whether the host has TLS settings of its own.
func (h registryHost) customTLS() bool {
	return len(h.caFiles) > 0 || len(h.clientPairs) > 0 || h.skipVerify
}

// tlsConfig builds the TLS client settings: the system's CAs plus the
// host's, its client certificates.
func (h registryHost) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: h.skipVerify} //nolint:gosec // skip_verify is the operator's choice
	if len(h.caFiles) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		for _, f := range h.caFiles {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("%w: CA: %v", ErrRegistryConfig, err)
			}
			if !pool.AppendCertsFromPEM(data) {
				return nil, fmt.Errorf("%w: CA %s holds no PEM certificate", ErrRegistryConfig, f)
			}
		}
		cfg.RootCAs = pool
	}
	for _, p := range h.clientPairs {
		certPEM, err := os.ReadFile(p[0])
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate: %v", ErrRegistryConfig, err)
		}
		keyPEM := certPEM
		if p[1] != "" {
			if keyPEM, err = os.ReadFile(p[1]); err != nil {
				return nil, fmt.Errorf("%w: client key: %v", ErrRegistryConfig, err)
			}
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate %s: %v", ErrRegistryConfig, p[0], err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	return cfg, nil
}

// hostTransport sends the host's extra headers and moves the registry API
// to the host's API root, for the requests to that host only (token
// servers elsewhere get neither).
type hostTransport struct {
	base    http.RoundTripper
	host    string
	apiRoot string
	header  http.Header
}

func (t hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	for k, v := range t.header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	if t.apiRoot != "/v2" {
		if rest, ok := strings.CutPrefix(req.URL.Path, "/v2"); ok && (rest == "" || rest[0] == '/') {
			req.URL.Path = strings.TrimSuffix(t.apiRoot, "/") + rest
			req.URL.RawPath = ""
		}
	}
	return t.base.RoundTrip(req)
}

// Summary describes each registry directory of d, for `crictl info`: the
// hosts a pull tries, in order, as "URL (capabilities[, TLS settings])",
// or why the directory does not load.
func (d HostsDir) Summary() map[string][]string {
	out := map[string][]string{}
	if d == "" {
		return out
	}
	entries, err := os.ReadDir(string(d))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			out[""] = []string{"error: " + err.Error()}
		}
		return out
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		hosts, err := loadHostDir(filepath.Join(string(d), e.Name()))
		if err != nil {
			out[e.Name()] = []string{"error: " + err.Error()}
			continue
		}
		for _, h := range append(hosts.mirrors, hosts.server) {
			out[e.Name()] = append(out[e.Name()], h.describe())
		}
	}
	return out
}

func (h registryHost) describe() string {
	where := "the registry itself"
	if h.host != "" {
		scheme := "https"
		if h.plain {
			scheme = "http"
		}
		where = scheme + "://" + h.host + h.apiRoot
	}
	var what []string
	if h.pull {
		what = append(what, "pull")
	}
	if h.resolve {
		what = append(what, "resolve")
	}
	if len(h.caFiles) > 0 {
		what = append(what, "ca")
	}
	if len(h.clientPairs) > 0 {
		what = append(what, "client certificate")
	}
	if h.skipVerify {
		what = append(what, "skip_verify")
	}
	return where + " (" + strings.Join(what, ", ") + ")"
}
