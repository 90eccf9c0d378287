// Package events hands the lifecycle events of containers and pod sandboxes
// (created, started, stopped, deleted) to every subscriber, in the order
// they happened, without ever making the publisher wait: a subscriber that
// falls a full buffer behind is dropped and told why.
package events

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Kind is what happened to an object.
type Kind int

const (
	Created Kind = iota + 1
	Started
	Stopped
	Deleted
)

func (k Kind) String() string {
	switch k {
	case Created:
		return "created"
	case Started:
		return "started"
	case Stopped:
		return "stopped"
	case Deleted:
		return "deleted"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Event is one change of a container or a pod sandbox.
type Event struct {
	Kind Kind
	// ID is the container's, or the pod sandbox's for an event of the pod
	// itself (then SandboxID is the same).
	ID        string
	SandboxID string
	Time      time.Time
}

// DefaultBuffer is how many events a subscriber may fall behind before it
// is dropped: a few seconds of the busiest node's churn.
const DefaultBuffer = 1000

// ErrTooSlow ends a subscription that fell a full buffer behind.
var ErrTooSlow = errors.New("the subscriber fell too far behind the events and was dropped; subscribe again and relist")

// ErrClosed ends a subscription its subscriber closed.
var ErrClosed = errors.New("subscription closed")

// ErrShutdown ends every subscription when the broker is closed.
var ErrShutdown = errors.New("berth is shutting down")

// Broker fans events out to subscribers. The zero value is not usable; a
// nil *Broker has no subscribers (Publish does nothing).
type Broker struct {
	buffer int
	// onDrop, if set, is called (without the lock) for each dropped
	// subscriber: for a metric.
	onDrop func()

	mu     sync.Mutex // held while an event is handed to every subscriber: the order is one for all
	subs   map[*Subscription]struct{}
	closed bool
}

// NewBroker makes a broker whose subscribers may each fall buffer events
// behind; onDrop (may be nil) learns of each one dropped.
func NewBroker(buffer int, onDrop func()) *Broker {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Broker{buffer: buffer, onDrop: onDrop, subs: map[*Subscription]struct{}{}}
}

// Subscription is one subscriber's stream of events.
type Subscription struct {
	b *Broker
	c chan Event
	// err says why the subscription ended; set under b.mu before c is
	// closed.
	err error
}

// Subscribe starts a subscription to every event from now on.
func (b *Broker) Subscribe() *Subscription {
	s := &Subscription{b: b, c: make(chan Event, b.buffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[s] = struct{}{}
	if b.closed {
		b.endLocked(s, ErrShutdown)
	}
	return s
}

// Close ends every subscription with ErrShutdown, and each one made after.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		b.endLocked(s, ErrShutdown)
	}
}

// Events is the subscription's channel, closed when it ends (see Err).
func (s *Subscription) Events() <-chan Event { return s.c }

// Err says why the channel was closed: ErrTooSlow, ErrClosed or
// ErrShutdown; nil while it is open.
func (s *Subscription) Err() error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.err
}

// Close ends the subscription; closing it twice, or after it was dropped,
// is fine.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.endLocked(s, ErrClosed)
}

func (b *Broker) endLocked(s *Subscription, why error) {
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	s.err = why
	close(s.c)
}

// Publish hands ev to every subscriber without waiting for any: one whose
// buffer is full is dropped.
func (b *Broker) Publish(ev Event) {
	if b == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	dropped := 0
	b.mu.Lock()
	for s := range b.subs {
		select {
		case s.c <- ev:
		default:
			b.endLocked(s, ErrTooSlow)
			dropped++
		}
	}
	b.mu.Unlock()
	for range dropped {
		if b.onDrop != nil {
			b.onDrop()
		}
	}
}

// Subscribers is how many subscriptions are open.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
