package image

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/fsutil"
)

// layerJobs bounds how many layers of one pull download at once.
const layerJobs = 3

// Bounds on what a registry sends before berth trusts it (containers/image
// bounds manifests and configs the same way; overlayfs stacks at most 500
// lower dirs).
const (
	maxManifestSize = 4 << 20
	maxConfigSize   = 4 << 20
	maxLayers       = 500
)

// Auth is the registry credential a pull carries (the CRI AuthConfig).
type Auth = authn.AuthConfig

// Puller pulls images into a Store. Two pulls of the same reference share
// one download; the download stops when every caller waiting for it has
// gone, or when it makes no progress for the configured time.
type Puller struct {
	store *Store

	cfgMu      sync.RWMutex
	registries map[string]config.RegistryConfig
	noProgress time.Duration
	authFile   *AuthFile // nil: none configured
	hostsDir   HostsDir

	mu       sync.Mutex
	inflight map[string]*pull
}

// pull is one download in flight, shared by its waiters.
type pull struct {
	waiters int
	cancel  context.CancelCauseFunc
	done    chan struct{}
	img     *Image
	err     error
}

// NewPuller returns a puller for the store with the given registry settings.
func NewPuller(s *Store, registries map[string]config.RegistryConfig, noProgress time.Duration) *Puller {
	return &Puller{store: s, registries: registries, noProgress: noProgress, inflight: map[string]*pull{}}
}

// SetRegistries replaces the registry settings (SIGHUP).
func (p *Puller) SetRegistries(r map[string]config.RegistryConfig) {
	p.cfgMu.Lock()
	defer p.cfgMu.Unlock()
	p.registries = r
}

// SetProgressTimeout replaces image.pull_progress_timeout (SIGHUP) for
// the pulls that begin from now on.
func (p *Puller) SetProgressTimeout(d time.Duration) {
	p.cfgMu.Lock()
	defer p.cfgMu.Unlock()
	p.noProgress = d
}

// SetAuthFile replaces the node's credentials (image.auth_file; nil for
// none), for the pulls that begin from now on.
func (p *Puller) SetAuthFile(a *AuthFile) {
	p.cfgMu.Lock()
	defer p.cfgMu.Unlock()
	p.authFile = a
}

// SetHostsDir replaces image.certs_dir, for the pulls that begin from now
// on (its files are read at every pull).
func (p *Puller) SetHostsDir(d HostsDir) {
	p.cfgMu.Lock()
	defer p.cfgMu.Unlock()
	p.hostsDir = d
}

// Pull fetches ref (unless an identical pull is already running, which it
// joins) and returns the stored image.
func (p *Puller) Pull(ctx context.Context, ref string, auth Auth) (*Image, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	key := r.String()
	p.mu.Lock()
	pl := p.inflight[key]
	if pl == nil {
		work, cancel := context.WithCancelCause(context.Background())
		pl = &pull{cancel: cancel, done: make(chan struct{})}
		p.inflight[key] = pl
		go func() {
			pl.img, pl.err = p.fetch(work, r, auth)
			cancel(nil)
			p.mu.Lock()
			delete(p.inflight, key)
			p.mu.Unlock()
			close(pl.done)
		}()
	}
	pl.waiters++
	p.mu.Unlock()

	select {
	case <-pl.done:
		return pl.img, pl.err
	case <-ctx.Done():
		p.mu.Lock()
		if pl.waiters--; pl.waiters == 0 {
			pl.cancel(fmt.Errorf("every caller of the pull of %s went away: %w", key, context.Cause(ctx)))
		}
		p.mu.Unlock()
		return nil, ctx.Err()
	}
}

// fetch tries each location of the registry in turn (mirrors first) and
// stores the image from the first that serves it.
func (p *Puller) fetch(ctx context.Context, r Reference, auth Auth) (*Image, error) {
	locations, err := p.locations(r)
	if err != nil {
		return nil, err
	}
	log := logrus.WithField("image", r.String())
	var errs pullErrors
	for _, loc := range locations {
		img, err := p.fetchFrom(ctx, r, loc, auth)
		if err == nil {
			return img, nil
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if fsutil.NoSpace(err) || errors.Is(err, ErrRegistryConfig) {
			// The local disk is full: another location would fill it too;
			// the node's registry files are broken: the operator must see it.
			return nil, fmt.Errorf("pull %s from %s: %w", r, loc.host, err)
		}
		log.WithError(err).WithField("location", loc.host).Debug("pull from location failed")
		errs = append(errs, fmt.Errorf("%s: %w", loc.host, err))
		if isNotFound(err) && loc.origin {
			return nil, fmt.Errorf("%w: %v", ErrNotFound, errs)
		}
	}
	return nil, fmt.Errorf("pull %s: %w", r, errs)
}

// pullErrors is what each location answered; errors.Is sees every one.
type pullErrors []error

func (e pullErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e pullErrors) Unwrap() []error { return e }

// location is one place to fetch an image from: a mirror or the registry.
type location struct {
	host     string // host[:port][/prefix], the prefix a berth.toml mirror's
	insecure bool   // berth.toml's insecure: plain HTTP, or TLS unverified
	origin   bool   // the registry itself: its "not found" is final
	via      registryHost
}

// locations lists where to look for r: the mirrors of berth.toml in order,
// then the hosts of the registry's certs.d directory, then the registry
// (or the server its directory names). A host whose capabilities do not
// allow the pull is left out: a tag needs "resolve", anything "pull".
func (p *Puller) locations(r Reference) ([]location, error) {
	host := r.Host()
	p.cfgMu.RLock()
	registries, hostsDir := p.registries, p.hostsDir
	p.cfgMu.RUnlock()
	rc := registries[host]
	if rc.Blocked {
		return nil, fmt.Errorf("%w: %s", ErrBlocked, host)
	}
	dir, err := hostsDir.lookup(host)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", host, err)
	}
	var out []location
	for _, m := range rc.Mirrors {
		mhost, _, _ := strings.Cut(m, "/")
		// berth.toml has no place for certificates: a mirror's CA and
		// client certificate are in its own certs.d directory.
		own, err := hostsDir.lookup(mhost)
		if err != nil {
			return nil, fmt.Errorf("mirror %s: %w", mhost, err)
		}
		out = append(out, location{host: m, insecure: registries[mhost].Insecure, via: own.server})
	}
	usable := func(h registryHost) bool { return h.pull && (h.resolve || r.Digest != "") }
	for _, h := range dir.mirrors {
		if usable(h) {
			out = append(out, location{host: h.host, insecure: registries[h.host].Insecure, via: h})
		}
	}
	if srv := dir.server; usable(srv) {
		if srv.host == "" {
			srv.host = host
		}
		out = append(out, location{host: srv.host, insecure: rc.Insecure || registries[srv.host].Insecure, origin: true, via: srv})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no host of registry %s may pull %s (capabilities in %s)", ErrRegistryConfig, host, r, hostsDir)
	}
	return out, nil
}

// transport is the HTTP client side for loc: its TLS settings, dial
// timeout, headers and API root.
func (loc location) transport() (http.RoundTripper, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if loc.via.customTLS() {
		cfg, err := loc.via.tlsConfig()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", loc.host, err)
		}
		tr.TLSClientConfig = cfg
	}
	if loc.insecure {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the operator asked for it
	}
	if d := loc.via.dialTimeout; d > 0 {
		tr.DialContext = (&net.Dialer{Timeout: d, KeepAlive: 30 * time.Second}).DialContext
	}
	if len(loc.via.header) == 0 && loc.via.apiRoot == "/v2" {
		return tr, nil
	}
	host, _, _ := strings.Cut(loc.host, "/")
	return hostTransport{base: tr, host: host, apiRoot: loc.via.apiRoot, header: loc.via.header}, nil
}

func (p *Puller) fetchFrom(ctx context.Context, r Reference, loc location, auth Auth) (*Image, error) {
	ref, err := r.on(loc.host, loc.insecure || loc.via.plain)
	if err != nil {
		return nil, err
	}
	tr, err := loc.transport()
	if err != nil {
		return nil, err
	}
	ctx, tracker, stop := p.watchProgress(ctx)
	defer stop()
	if auth == (Auth{}) {
		// No pull secret: the node's own credentials for this location.
		p.cfgMu.RLock()
		auth, _ = p.authFile.For(loc.host)
		p.cfgMu.RUnlock()
	}
	var authenticator authn.Authenticator = authn.Anonymous
	if auth != (Auth{}) {
		authenticator = authn.FromConfig(auth)
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(authenticator),
		remote.WithTransport(progressTransport{tr, tracker}),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}),
	}
	img, err := p.download(ctx, r, ref, opts)
	if ctx.Err() != nil {
		// The registry client's errors do not wrap the cause; say it plainly.
		return nil, context.Cause(ctx)
	}
	if err == nil {
		logrus.WithFields(logrus.Fields{"image": r.String(), "id": img.ID, "location": loc.host, "bytes": img.Size}).Info("image pulled")
	}
	return img, err
}

// download fetches the manifest (resolving an index to this platform), then
// every layer not yet stored, and records the image.
func (p *Puller) download(ctx context.Context, r Reference, ref name.Reference, opts []remote.Option) (*Image, error) {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, err
	}
	img, err := desc.Image() // resolves an index to this platform
	if err != nil {
		return nil, err
	}
	var tags []string
	if t := r.TagRef(); t != "" {
		tags = []string{t}
	}
	return p.store.putImage(ctx, img, tags, []string{r.DigestRef(desc.Digest.String())})
}

func isNotFound(err error) bool {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.StatusCode == http.StatusNotFound
	}
	return false
}
