package ids

import (
	"encoding/hex"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := New()
		if _, err := hex.DecodeString(id); err != nil || len(id) != 64 {
			t.Fatalf("New() = %q; want 64 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("New() repeated %q", id)
		}
		seen[id] = true
	}
}
