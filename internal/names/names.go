// Package names reserves the CRI names of pod sandboxes and containers.
//
// kubelet retries a create call that timed out on its side with the same
// name. A reservation remembers which ID owns a name, so the retry waits for
// the first call and gets its object instead of an error or a second object.
package names

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// CreateDeadline bounds a create that runs detached from its caller: past
// it, the create's context ends, its steps fail and roll back, and the
// name is freed. Each step has a shorter bound of its own (CNI, the
// runtime, conmon); this one catches what has none.
const CreateDeadline = 10 * time.Minute

// Registry maps names to the IDs that own them.
type Registry struct {
	mu sync.Mutex
	m  map[string]*entry
	// deadline is CreateDeadline, shorter in tests.
	deadline time.Duration
}

type entry struct {
	id   string
	done chan struct{} // closed once the owner's create finished
	ok   bool          // the create succeeded; false: the name was released
}

// New returns an empty registry.
func New() *Registry { return &Registry{m: map[string]*entry{}, deadline: CreateDeadline} }

// Reserve claims name for id. When another ID holds it, Reserve waits for
// that create to finish: if it succeeded, the other ID is returned (the
// caller hands it back instead of creating anything); if it failed, the name
// is claimed again. ctx bounds the wait.
func (r *Registry) Reserve(ctx context.Context, name, id string) (owner string, err error) {
	for {
		r.mu.Lock()
		e := r.m[name]
		if e == nil {
			r.m[name] = &entry{id: id, done: make(chan struct{})}
			r.mu.Unlock()
			return id, nil
		}
		r.mu.Unlock()
		select {
		case <-e.done:
			if e.ok {
				return e.id, nil
			}
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// Finish ends id's create: on success the name stays taken until Release;
// on failure it is freed for the next caller.
func (r *Registry) Finish(name, id string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[name]
	if e == nil || e.id != id {
		return
	}
	e.ok = ok
	if !ok {
		delete(r.m, name)
	}
	close(e.done)
}

// Restore records a name owned by an object loaded at start-up.
func (r *Registry) Restore(name, id string) {
	done := make(chan struct{})
	close(done)
	r.mu.Lock()
	r.m[name] = &entry{id: id, done: done, ok: true}
	r.mu.Unlock()
}

// Release frees name if id still owns it (the object was removed).
func (r *Registry) Release(name, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[name]
	if e == nil || e.id != id {
		return
	}
	delete(r.m, name)
	select {
	case <-e.done:
	default:
		// Released before its create finished: waiters claim the name anew.
		close(e.done)
	}
}

// Create reserves name for id and runs create for it, detached from ctx's
// cancellation: when kubelet gives up waiting (ctx ends) the create goes on,
// and kubelet's retry with the same name waits for it and gets its ID. When
// another ID already owns the name, that ID is returned and nothing runs.
// The detached create has CreateDeadline to finish.
func (r *Registry) Create(ctx context.Context, name, id string, create func(context.Context) error) (string, error) {
	owner, err := r.Reserve(ctx, name, id)
	if err != nil {
		return "", fmt.Errorf("waiting for %s, being created by an earlier call: %w", name, err)
	}
	if owner != id {
		return owner, nil
	}
	done := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.deadline)
		err := create(cctx)
		cancel()
		r.Finish(name, id, err == nil)
		done <- err
	}()
	select {
	case err := <-done:
		return id, err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
