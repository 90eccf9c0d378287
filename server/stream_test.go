package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"
	remotecommandserver "k8s.io/cri-streaming/pkg/streaming/remotecommand"
)

// The resize adapter ends with its session, even when a resize arrived
// that nobody reads any more (the TTY exec ended first) and the library
// never closes its channel.
func TestResizeAdapterEndsWithTheSession(t *testing.T) {
	resize := make(chan remotecommandserver.TerminalSize, 1)
	ctx, end := context.WithCancel(context.Background())
	s := streams(ctx, nil, nil, nil, true, resize)

	resize <- remotecommandserver.TerminalSize{Width: 80, Height: 24}
	if got := <-s.Resize; got.Width != 80 || got.Height != 24 {
		t.Fatalf("resize %+v, want 80x24", got)
	}
	resize <- remotecommandserver.TerminalSize{Width: 100, Height: 30} // the session's last
	end()
	select {
	case _, ok := <-drain(s.Resize):
		if ok {
			t.Fatal("want the sizes channel closed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the resize adapter outlived its session")
	}
}

// drain reads what is left of c and closes its result once c is closed.
func drain[T any](c <-chan T) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		for range c {
		}
		close(out)
	}()
	return out
}

// A client that opens connections and sends nothing cannot hold the
// streaming server: connections beyond the cap wait, and one that sends
// no headers is closed, so the request of a client that does (kubelet)
// is served once they are gone; a kept-alive connection left idle is
// closed too. None of it needs a valid token.
func TestStreamingConnectionsAreCappedAndTimedOut(t *testing.T) {
	lim := streamLimits{sessions: 1, connections: 2, headerTimeout: 500 * time.Millisecond, idleTimeout: 500 * time.Millisecond}
	ss, err := startStreamServer("127.0.0.1:0", lim, func(sessions chan struct{}) streaming.Runtime {
		return &streamRuntime{sessions: sessions}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ss.stop()
	resp, err := ss.GetExec(&runtimeapi.ExecRequest{ContainerId: "c", Cmd: []string{"true"}, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(resp.GetUrl())
	if err != nil {
		t.Fatal(err)
	}

	var silent []net.Conn
	for range lim.connections {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	got := make(chan int, 1)
	go func() {
		c := http.Client{Timeout: 30 * time.Second}
		r, err := c.Get("http://" + u.Host + "/exec/not-a-token")
		if err != nil {
			got <- -1
			return
		}
		r.Body.Close()
		got <- r.StatusCode
	}()
	var code int
	select {
	case code = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("a well-behaved request was never served")
	}
	if code != http.StatusNotFound {
		t.Errorf("an unknown token got HTTP %d, want 404", code)
	}
	// It could only be served once the silent connections were closed.
	for i, c := range silent {
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Errorf("silent connection %d still open when the request was served (read: %v)", i, err)
		}
	}

	// A kept-alive connection left idle is closed by the server.
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /exec/not-a-token HTTP/1.1\r\nHost: %s\r\n\r\n", u.Host)
	br := bufio.NewReader(c)
	r, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("an idle kept-alive connection was not closed: %v", err)
	}
}
