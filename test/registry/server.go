package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// UpstreamHosts are the registries critest pulls from; the server has a
// repository tree for each, under its host name.
var UpstreamHosts = []string{"registry.k8s.io", "k8s.gcr.io", "gcr.io", "public.ecr.aws"}

// MirrorPrefix returns the repository prefix that stands in for
// upstreamHost on the registry at addr: "127.0.0.1:PORT/registry.k8s.io".
func MirrorPrefix(addr, upstreamHost string) string {
	return addr + "/" + upstreamHost
}

// Server serves catalogue images over plain HTTP, read-only once started.
type Server struct {
	addr     string
	srv      *http.Server
	served   chan error
	readonly atomic.Bool
	logf     func(format string, args ...any)
}

// Start listens on addr ("127.0.0.1:0" for any free port), pushes every
// image under each of its references, rewritten to this registry, and
// returns once all can be pulled.
func Start(addr string, images []Image) (*Server, error) {
	return StartWithLog(addr, images, nil)
}

// StartWithLog is Start, logging each request and its status with logf
// when it is not nil.
func StartWithLog(addr string, images []Image, logf func(format string, args ...any)) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP
	if host.IsUnspecified() {
		host = net.IPv4(127, 0, 0, 1)
	}
	s := &Server{
		addr:   net.JoinHostPort(host.String(), fmt.Sprint(tcp.Port)),
		served: make(chan error, 1),
		logf:   logf,
	}
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	s.srv = &http.Server{Handler: s.handler(reg), ReadHeaderTimeout: time.Minute}
	go func() { s.served <- s.srv.Serve(ln) }()

	if err := s.push(images); err != nil {
		s.Close()
		return nil, err
	}
	s.readonly.Store(true)
	return s, nil
}

// Addr returns the registry's "host:port", e.g. "127.0.0.1:5000".
func (s *Server) Addr() string { return s.addr }

// Ref returns the reference upstream (e.g.
// "registry.k8s.io/pause:3.9") has on this registry.
func (s *Server) Ref(upstream string) string { return s.addr + "/" + upstream }

// Close stops the server at once.
func (s *Server) Close() error {
	err := s.srv.Close()
	if serveErr := <-s.served; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

func (s *Server) push(images []Image) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	defer transport.CloseIdleConnections()
	for _, img := range images {
		for _, upstream := range img.Refs {
			ref, err := name.ParseReference(s.Ref(upstream), name.Insecure, name.StrictValidation)
			if err != nil {
				return fmt.Errorf("reference %s: %w", upstream, err)
			}
			if err := remote.Write(ref, img.Image, remote.WithContext(ctx), remote.WithTransport(transport)); err != nil {
				return fmt.Errorf("pushing %s: %w", ref, err)
			}
		}
	}
	return nil
}

// handler refuses writes once the catalogue is pushed and logs requests.
func (s *Server) handler(reg http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if s.readonly.Load() && req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			io.WriteString(w, `{"errors":[{"code":"UNSUPPORTED","message":"berth's test registry is read-only"}]}`+"\n")
			s.log(req, http.StatusMethodNotAllowed)
			return
		}
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		reg.ServeHTTP(rec, req)
		s.log(req, rec.status)
	})
}

func (s *Server) log(req *http.Request, status int) {
	if s.logf != nil && s.readonly.Load() {
		s.logf("%s %s %d %s", req.Method, req.URL.Path, status, strings.TrimSpace(req.Header.Get("User-Agent")))
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
