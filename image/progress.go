package image

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// progress records when bytes last arrived from the registry.
type progress struct{ last atomic.Int64 }

func (p *progress) touch() { p.last.Store(time.Now().UnixNano()) }

// watchProgress returns a context that is cancelled with ErrNoProgress when
// no byte arrives through the returned tracker for p.noProgress; the pull's
// overall duration is not limited (big images on slow links are fine).
func (p *Puller) watchProgress(parent context.Context) (context.Context, *progress, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	tr := &progress{}
	tr.touch()
	p.cfgMu.RLock()
	limit := p.noProgress
	p.cfgMu.RUnlock()
	if limit <= 0 {
		return ctx, tr, func() { cancel(nil) }
	}
	tick := min(limit/4, time.Second)
	stopped := make(chan struct{})
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-stopped:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if idle := time.Since(time.Unix(0, tr.last.Load())); idle > limit {
					cancel(fmt.Errorf("%w for %s", ErrNoProgress, limit))
					return
				}
			}
		}
	}()
	return ctx, tr, func() { close(stopped); cancel(nil) }
}

// progressTransport marks progress on every request and every body read.
type progressTransport struct {
	base http.RoundTripper
	p    *progress
}

func (t progressTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.p.touch()
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.p.touch()
	resp.Body = progressBody{resp.Body, t.p}
	// A manifest or an index is read whole into memory: bound it before
	// (by its length) and while (by what arrives) it is read.
	if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/manifests/") && resp.StatusCode == http.StatusOK {
		if resp.ContentLength > maxManifestSize {
			resp.Body.Close()
			return nil, fmt.Errorf("%w: the manifest of %s is %d bytes, at most %d", ErrTooLarge, req.URL.Path, resp.ContentLength, maxManifestSize)
		}
		resp.Body = &boundedBody{ReadCloser: resp.Body, left: maxManifestSize, what: "the manifest of " + req.URL.Path}
	}
	return resp, nil
}

// boundedBody fails a read past its bound.
type boundedBody struct {
	io.ReadCloser
	left int64
	what string
}

func (b *boundedBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	if b.left -= int64(n); b.left < 0 {
		return 0, fmt.Errorf("%w: %s is more than %d bytes", ErrTooLarge, b.what, maxManifestSize)
	}
	return n, err
}

type progressBody struct {
	io.ReadCloser
	p *progress
}

func (b progressBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	if n > 0 {
		b.p.touch()
	}
	return n, err
}
