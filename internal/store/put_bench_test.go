package store

import (
	"path/filepath"
	"testing"
)

// BenchmarkPut is one record written in its own synchronous transaction,
// as every state change of a pod or container is.
func BenchmarkPut(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "berth.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rec := map[string]string{"id": "c1", "state": "running", "padding": string(make([]byte, 2000))}
	for b.Loop() {
		if err := s.Put("containers", "c1", rec); err != nil {
			b.Fatal(err)
		}
	}
}
