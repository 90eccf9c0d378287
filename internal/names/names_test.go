package names

import (
	"context"
	"errors"
	"testing"
	"time"
)

// reserve calls Reserve with a background context and fails on error.
func reserve(t *testing.T, r *Registry, name, id string) string {
	t.Helper()
	owner, err := r.Reserve(context.Background(), name, id)
	if err != nil {
		t.Fatalf("Reserve(%q, %q): %v", name, id, err)
	}
	return owner
}

// reserveAsync runs Reserve in a goroutine; its result arrives on the channel.
func reserveAsync(r *Registry, name, id string) <-chan string {
	ch := make(chan string, 1)
	go func() {
		owner, err := r.Reserve(context.Background(), name, id)
		if err != nil {
			owner = "error: " + err.Error()
		}
		ch <- owner
	}()
	return ch
}

// assertHeld checks that name is taken and unfinished: a Reserve with a
// short deadline times out.
func assertHeld(t *testing.T, r *Registry, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if owner, err := r.Reserve(ctx, name, "probe"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Reserve of held %q = %q, %v; want DeadlineExceeded", name, owner, err)
	}
}

// assertPending checks that a waiter has not returned yet.
func assertPending(t *testing.T, ch <-chan string) {
	t.Helper()
	select {
	case got := <-ch:
		t.Fatalf("waiter returned %q while the name was still being created", got)
	default:
	}
}

func TestReserveFreeName(t *testing.T) {
	r := New()
	if got := reserve(t, r, "pod", "a"); got != "a" {
		t.Fatalf("owner = %q; want a", got)
	}
	if got := reserve(t, r, "other", "b"); got != "b" {
		t.Fatalf("another name: owner = %q; want b", got)
	}
}

// A retry waits for the first create; it gets the first ID if that
// succeeded, else claims the name for itself.
func TestReserveWaitsForFinish(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
		want string
	}{
		{"first create succeeded", true, "first"},
		{"first create failed", false, "second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			reserve(t, r, "pod", "first")
			waiter := reserveAsync(r, "pod", "second")
			assertHeld(t, r, "pod")
			assertPending(t, waiter)
			r.Finish("pod", "first", tt.ok)
			if got := <-waiter; got != tt.want {
				t.Fatalf("waiter got %q; want %q", got, tt.want)
			}
		})
	}
}

// After a failed create, one waiter claims the name and the others wait for
// that one in turn.
func TestReserveAfterFailureClaimsAnew(t *testing.T) {
	r := New()
	reserve(t, r, "pod", "a")
	b, c := reserveAsync(r, "pod", "b"), reserveAsync(r, "pod", "c")
	assertHeld(t, r, "pod")
	r.Finish("pod", "a", false)

	var winner string
	var loser <-chan string
	select {
	case winner = <-b:
		loser = c
	case winner = <-c:
		loser = b
	}
	if winner != "b" && winner != "c" {
		t.Fatalf("first waiter back got %q; want its own ID", winner)
	}
	assertHeld(t, r, "pod")
	assertPending(t, loser)
	r.Finish("pod", winner, true)
	if got := <-loser; got != winner {
		t.Fatalf("second waiter got %q; want %q", got, winner)
	}
}

func TestReserveContextEnds(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline", expired, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			reserve(t, r, "pod", "a")
			if owner, err := r.Reserve(tt.ctx, "pod", "b"); owner != "" || !errors.Is(err, tt.want) {
				t.Fatalf("Reserve = %q, %v; want \"\", %v", owner, err, tt.want)
			}
			// The holder is unaffected.
			r.Finish("pod", "a", true)
			if got := reserve(t, r, "pod", "c"); got != "a" {
				t.Fatalf("owner after the timed-out wait = %q; want a", got)
			}
		})
	}
}

func TestRestore(t *testing.T) {
	r := New()
	r.Restore("pod", "old")
	if got := reserve(t, r, "pod", "new"); got != "old" {
		t.Fatalf("owner = %q; want the restored old", got)
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name      string
		releaseID string
		want      string // owner seen by a later Reserve
	}{
		{"owner frees the name", "a", "b"},
		{"wrong ID does nothing", "x", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			reserve(t, r, "pod", "a")
			r.Finish("pod", "a", true)
			r.Release("pod", tt.releaseID)
			if got := reserve(t, r, "pod", "b"); got != tt.want {
				t.Fatalf("owner = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestReleaseRestored(t *testing.T) {
	r := New()
	r.Restore("pod", "old")
	r.Release("pod", "old")
	if got := reserve(t, r, "pod", "new"); got != "new" {
		t.Fatalf("owner = %q; want new", got)
	}
}

func TestFinishWrongIDDoesNothing(t *testing.T) {
	for _, ok := range []bool{true, false} {
		r := New()
		reserve(t, r, "pod", "a")
		r.Finish("pod", "x", ok)
		assertHeld(t, r, "pod")
		r.Finish("pod", "a", true)
		if got := reserve(t, r, "pod", "b"); got != "a" {
			t.Fatalf("Finish(wrong id, %v): owner = %q; want a", ok, got)
		}
	}
}

func TestFinishUnknownName(t *testing.T) {
	r := New()
	r.Finish("nobody", "a", true) // must not panic
	if got := reserve(t, r, "nobody", "b"); got != "b" {
		t.Fatalf("owner = %q; want b", got)
	}
}

func TestCreateGoesOnWhenTheCallerGivesUp(t *testing.T) {
	r := New()
	started, proceed := make(chan struct{}), make(chan struct{})
	short, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		_, err := r.Create(short, "pod", "first", func(ctx context.Context) error {
			close(started)
			<-proceed
			return ctx.Err() // detached: never cancelled by the caller
		})
		result <- err
	}()
	<-started
	cancel() // kubelet gives up
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that gave up got %v, want context.Canceled", err)
	}
	// The retry waits for the first create and gets its ID.
	retry := make(chan string, 1)
	go func() {
		id, err := r.Create(context.Background(), "pod", "second", func(context.Context) error {
			t.Error("the retry must not create a second object")
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		retry <- id
	}()
	close(proceed)
	if id := <-retry; id != "first" {
		t.Fatalf("retry got %q, want the first call's ID", id)
	}
}

// A create that never finishes on its own is ended by the deadline: its
// context is done, it fails, and the name is free for the next caller.
func TestCreateDeadline(t *testing.T) {
	r := New()
	r.deadline = 50 * time.Millisecond
	stuck := func(ctx context.Context) error {
		<-ctx.Done() // a step that only ends with its context
		return ctx.Err()
	}
	// The caller went away at once; the create runs on, detached.
	caller, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Create(caller, "pod", "id1", stuck); err == nil {
		t.Fatal("the caller gone: want its context's error")
	}
	// The next caller waits for the stuck create to hit its deadline, then
	// gets the name.
	wait, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	got, err := r.Create(wait, "pod", "id2", func(context.Context) error { return nil })
	if err != nil || got != "id2" {
		t.Fatalf("after the deadline: %q, %v; want the name for id2", got, err)
	}
}
