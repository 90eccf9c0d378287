package store

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

type record struct{ Name string }

func TestPutForEachDeleteSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if err := s.Put("things", k, record{Name: "name-" + k}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete("things", "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("things", "missing"); err != nil {
		t.Fatalf("deleting a missing key must not fail: %v", err)
	}
	if err := s.Delete("nobucket", "x"); err != nil {
		t.Fatalf("deleting from a missing bucket must not fail: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[string]record{}
	err = s.ForEach("things", func(k string, data []byte) error {
		var r record
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		got[k] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["b"].Name != "name-b" {
		t.Fatalf("after reopen got %v, want only b", got)
	}
	if err := s.ForEach("empty", func(string, []byte) error { t.Fatal("no records expected"); return nil }); err != nil {
		t.Fatal(err)
	}
}
