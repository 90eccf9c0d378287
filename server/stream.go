package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/net/netutil"
	"k8s.io/cri-streaming/pkg/streaming"
	remotecommandserver "k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/container"
)

// streamServer serves exec, attach and port-forward over the SPDY and
// websocket protocols kubelet and kubectl use, through k8s.io/cri-streaming;
// the CRI Exec / Attach / PortForward calls hand out single-use URLs to it.
type streamServer struct {
	streaming.Server
	http     *http.Server
	sessions chan struct{} // one slot per open session: the cap
}

// streamLimits bound what clients of the streaming server can hold. The
// server listens on a TCP port any local user can reach, and the token
// check comes only once a request's headers are read: the connection cap
// and the header timeout hold before it, the session cap after it.
type streamLimits struct {
	sessions      int           // sessions open at once; more are refused
	connections   int           // connections open at once; more wait in the listen queue
	headerTimeout time.Duration // for a request's headers, the token among them
	idleTimeout   time.Duration // a stream, or a kept-alive connection, idle this long is closed
}

// handshakeSlots are the connections allowed beyond the session cap: ones
// still sending their headers or upgrading.
const handshakeSlots = 64

func streamLimitsOf(cfg *config.Config) streamLimits {
	return streamLimits{
		sessions:      cfg.StreamMaxSessions,
		connections:   cfg.StreamMaxSessions + handshakeSlots,
		headerTimeout: 10 * time.Second,
		idleTimeout:   cfg.StreamIdleTimeout.Duration,
	}
}

// startStreaming listens on the configured address (port 0 picks one) and
// serves in the background.
func (s *Server) startStreaming(cfg *config.Config) (*streamServer, error) {
	return startStreamServer(cfg.StreamAddress, streamLimitsOf(cfg), func(sessions chan struct{}) streaming.Runtime {
		return &streamRuntime{s: s, sessions: sessions}
	})
}

func startStreamServer(addr string, lim streamLimits, runtime func(sessions chan struct{}) streaming.Runtime) (*streamServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("streaming server: %w", err)
	}
	sc := streaming.DefaultConfig
	sc.Addr = l.Addr().String()
	sc.BaseURL = &url.URL{Scheme: "http", Host: l.Addr().String()}
	sc.StreamIdleTimeout = lim.idleTimeout
	ss := &streamServer{sessions: make(chan struct{}, lim.sessions)}
	srv, err := streaming.NewServer(sc, runtime(ss.sessions))
	if err != nil {
		l.Close()
		return nil, err
	}
	ss.Server = srv
	ss.http = &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: lim.headerTimeout,
		IdleTimeout:       lim.idleTimeout,
		ConnContext:       clientGoneContext,
	}
	go func() {
		if err := ss.http.Serve(watchedListener{netutil.LimitListener(l, lim.connections)}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logrus.WithError(err).Error("streaming server stopped")
		}
	}()
	logrus.WithField("address", sc.BaseURL.String()).Info("serving exec, attach and port-forward")
	return ss, nil
}

// A streaming session runs on a hijacked connection, whose request context
// Go never cancels when the client goes away. watchedConn cancels its
// context when a read fails (the client closed or reset the connection),
// and clientGoneContext makes that the requests' context, so a session's
// exec is killed, its attach and port-forward ended, at once.
type watchedListener struct{ net.Listener }

type watchedConn struct {
	net.Conn
	gone   context.Context
	cancel context.CancelFunc
}

func (l watchedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	gone, cancel := context.WithCancel(context.Background())
	return &watchedConn{Conn: c, gone: gone, cancel: cancel}, nil
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && !isTimeout(err) {
		c.cancel()
	}
	return n, err
}

func (c *watchedConn) Close() error {
	c.cancel()
	return c.Conn.Close()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func clientGoneContext(ctx context.Context, c net.Conn) context.Context {
	w, ok := c.(*watchedConn)
	if !ok {
		return ctx
	}
	ctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(w.gone, cancel)
	return ctx
}

func (ss *streamServer) stop() {
	if ss != nil {
		ss.http.Close()
	}
}

// streamRuntime runs the sessions the streaming server accepts.
type streamRuntime struct {
	s        *Server
	sessions chan struct{}
}

// session takes a slot, or refuses when the cap is reached.
func (r *streamRuntime) session() (release func(), err error) {
	select {
	case r.sessions <- struct{}{}:
		return func() { <-r.sessions }, nil
	default:
		return nil, fmt.Errorf("too many streaming sessions open (%d); try again later", cap(r.sessions))
	}
}

func (r *streamRuntime) Exec(ctx context.Context, containerID string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommandserver.TerminalSize) error {
	release, err := r.session()
	if err != nil {
		return err
	}
	defer release()
	ctx, end := context.WithCancel(ctx)
	defer end() // the session is over: its resize adapter goes too
	err = r.s.containers.Exec(ctx, containerID, cmd, streams(ctx, in, out, errw, tty, resize))
	var exit *container.ExitError
	if errors.As(err, &exit) {
		// The protocol carries the exit code back to the client this way.
		return utilexec.CodeExitError{Err: err, Code: exit.Code}
	}
	return err
}

func (r *streamRuntime) Attach(ctx context.Context, containerID string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommandserver.TerminalSize) error {
	release, err := r.session()
	if err != nil {
		return err
	}
	defer release()
	ctx, end := context.WithCancel(ctx)
	defer end()
	return r.s.containers.Attach(ctx, containerID, streams(ctx, in, out, errw, tty, resize))
}

func (r *streamRuntime) PortForward(ctx context.Context, podSandboxID string, port int32, stream io.ReadWriteCloser) error {
	release, err := r.session()
	if err != nil {
		return err
	}
	defer release()
	return r.s.sandboxes.PortForward(ctx, podSandboxID, port, stream)
}

// streams adapts the library's stream ends to the container package's.
// The resize adapter lives as long as the session (ctx): a resize that
// arrives once the command has ended, with nobody reading sizes, must not
// leave it blocked forever.
func streams(ctx context.Context, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommandserver.TerminalSize) container.Streams {
	s := container.Streams{Stdin: in, Stdout: out, Stderr: errw, TTY: tty}
	if resize != nil {
		sizes := make(chan container.Size)
		go func() {
			defer close(sizes)
			for {
				select {
				case r, ok := <-resize:
					if !ok {
						return
					}
					select {
					case sizes <- container.Size{Width: r.Width, Height: r.Height}:
					case <-ctx.Done():
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		s.Resize = sizes
	}
	return s
}
