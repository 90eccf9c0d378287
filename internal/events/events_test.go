package events

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Every subscriber sees every event in the order published, each
// publisher's events in its own order even when many publish at once.
func TestEverySubscriberSeesEveryEventInOrder(t *testing.T) {
	b := NewBroker(10000, nil)
	subs := []*Subscription{b.Subscribe(), b.Subscribe()}
	const publishers, each = 8, 500
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				b.Publish(Event{Kind: Kind(i%4 + 1), ID: fmt.Sprintf("obj%d", p), SandboxID: fmt.Sprint(i)})
			}
		}()
	}
	wg.Wait()
	var first []Event
	for n, s := range subs {
		next := map[string]int{}
		var got []Event
		for range publishers * each {
			ev := <-s.Events()
			got = append(got, ev)
			if want := fmt.Sprint(next[ev.ID]); ev.SandboxID != want {
				t.Fatalf("subscriber %d: event %s of %s arrived as number %s", n, ev.SandboxID, ev.ID, want)
			}
			if ev.Time.IsZero() {
				t.Fatal("an event without a time")
			}
			next[ev.ID]++
		}
		if n == 0 {
			first = got
		} else {
			for i := range got {
				if got[i] != first[i] {
					t.Fatalf("the subscribers saw different orders at %d: %v and %v", i, first[i], got[i])
				}
			}
		}
	}
}

// A subscriber that never reads is dropped once its buffer is full; the
// publisher never waits, and the others get everything.
func TestSlowSubscriberIsDroppedNotWaitedFor(t *testing.T) {
	var dropped atomic.Int32
	b := NewBroker(5, func() { dropped.Add(1) })
	slow, fast := b.Subscribe(), b.Subscribe()
	done := make(chan struct{})
	var got int
	go func() {
		defer close(done)
		for range fast.Events() {
			got++
		}
	}()
	for i := range 100 {
		b.Publish(Event{Kind: Created, ID: fmt.Sprint(i)})
		// Keep the fast one within its buffer.
		for len(fast.c) > 0 {
			runtime.Gosched()
		}
	}
	n := 0
	for range slow.Events() {
		n++
	}
	if n != 5 || !errors.Is(slow.Err(), ErrTooSlow) {
		t.Errorf("the slow subscriber got %d events and %v; want its buffer's 5 and ErrTooSlow", n, slow.Err())
	}
	if dropped.Load() != 1 || b.Subscribers() != 1 {
		t.Errorf("dropped %d, %d subscribers left; want 1 and 1", dropped.Load(), b.Subscribers())
	}
	fast.Close()
	<-done
	if got != 100 || !errors.Is(fast.Err(), ErrClosed) {
		t.Errorf("the reading subscriber got %d events, ended with %v; want 100 and ErrClosed", got, fast.Err())
	}
	fast.Close() // twice is fine
}

func TestNilBrokerPublishesNothing(t *testing.T) {
	var b *Broker
	b.Publish(Event{Kind: Created, ID: "x"})
}

// Closing the broker ends every subscription, and the ones made after.
func TestCloseEndsEverySubscription(t *testing.T) {
	b := NewBroker(0, nil)
	before := b.Subscribe()
	b.Close()
	after := b.Subscribe()
	for _, s := range []*Subscription{before, after} {
		if _, open := <-s.Events(); open || !errors.Is(s.Err(), ErrShutdown) {
			t.Errorf("after Close: channel open %v, Err %v; want closed with ErrShutdown", open, s.Err())
		}
	}
	b.Publish(Event{Kind: Created, ID: "x"}) // to no one
}
