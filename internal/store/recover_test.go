package store

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

type job struct {
	ID   string `json:"id"`
	Done bool   `json:"done"`
}

func (j job) RecordID() string { return j.ID }
func (j job) IsComplete() bool { return j.Done }

// Recover keeps complete records, rolls back the others (a failed rollback
// does not stop the rest) and drops what it cannot decode.
func TestRecover(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, j := range []job{{"a", true}, {"b", false}, {"c", false}, {"d", true}} {
		if err := s.Put("jobs", j.ID, j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("jobs")).Put([]byte("e"), []byte("{not json")) }); err != nil {
		t.Fatal(err)
	}
	var kept, rolledBack []string
	err = Recover(s, "jobs", "job",
		func(j job) error {
			rolledBack = append(rolledBack, j.ID)
			return errors.New("rollback fails")
		},
		func(j job) { kept = append(kept, j.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kept, []string{"a", "d"}) || !slices.Equal(rolledBack, []string{"b", "c"}) {
		t.Errorf("kept %q, rolled back %q; want [a d], [b c]", kept, rolledBack)
	}
	// An empty store has nothing to recover.
	if err := Recover(s, "none", "job", func(job) error { t.Error("rollback called"); return nil }, func(job) { t.Error("keep called") }); err != nil {
		t.Fatal(err)
	}
}
