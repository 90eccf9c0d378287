package sandbox

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
)

// dialTimeout bounds connecting to the pod's port.
const dialTimeout = 5 * time.Second

// PortForward connects stream to TCP port of the pod, inside its network
// namespace (or the host's for a host-network pod), and copies both ways
// until either side ends or ctx does.
func (m *Manager) PortForward(ctx context.Context, id string, port int32, stream io.ReadWriteCloser) error {
	sb, err := m.Get(id)
	if err != nil {
		return err
	}
	rec := sb.Snapshot()
	if rec.State != Ready {
		return fmt.Errorf("%w: pod sandbox %s is not ready", ErrInvalid, rec.ID)
	}
	if port <= 0 || port > 65535 {
		return invalidf("port %d is out of range", port)
	}
	conn, err := dialInPod(rec.NetNS, port)
	if err != nil {
		return fmt.Errorf("port-forward to pod %s port %d: %w", rec.ID, port, err)
	}
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			conn.Close()
			stream.Close()
		})
	}
	defer closeBoth()
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(conn, stream)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite() // the client is done sending; let the pod answer
		}
		done <- struct{}{}
	}()
	go func() {
		io.Copy(stream, conn)
		done <- struct{}{}
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	closeBoth()
	return nil
}

// dialInPod connects to localhost:port in the pod's network namespace
// ("" for the host's), IPv4 first, then IPv6.
func dialInPod(netns string, port int32) (net.Conn, error) {
	var conn net.Conn
	dial := func() error {
		var err error
		for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("[::1]:%d", port)} {
			if conn, err = net.DialTimeout("tcp", addr, dialTimeout); err == nil {
				return nil
			}
		}
		return err
	}
	if netns == "" {
		return conn, dial()
	}
	// The socket is created in the namespace of the thread that dials.
	err := ns.WithNetNSPath(netns, func(ns.NetNS) error { return dial() })
	return conn, err
}
