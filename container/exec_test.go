package container

import (
	"bytes"
	"sync"
	"testing"
)

// Both streams together stay within the budget, whichever writes first,
// and what was dropped is counted.
func TestOutputBudget(t *testing.T) {
	b := &outputBudget{room: 100}
	out, errs := b.stream(), b.stream()
	var wg sync.WaitGroup
	for _, w := range []*budgetBuffer{out, errs} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if n, err := w.Write(bytes.Repeat([]byte("x"), 12)); n != 12 || err != nil {
					t.Errorf("Write = %d, %v; want all of it taken", n, err)
				}
			}
		}()
	}
	wg.Wait()
	if got := len(out.Bytes()) + len(errs.Bytes()); got != 100 {
		t.Errorf("kept %d bytes, want the budget's 100", got)
	}
	if b.dropped() != 240-100 {
		t.Errorf("dropped %d, want 140", b.dropped())
	}
	small := &outputBudget{room: 100}
	w := small.stream()
	w.Write([]byte("hello"))
	if string(w.Bytes()) != "hello" || small.dropped() != 0 {
		t.Errorf("under the budget: %q, dropped %d", w.Bytes(), small.dropped())
	}
}
