package server

import (
	"context"
	"testing"
	"time"

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
