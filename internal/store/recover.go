package store

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"

	gojson "github.com/goccy/go-json"
	"github.com/sirupsen/logrus"
)

// Recoverable is a record that is saved before the object it describes is
// made, and marked complete once it is: one left incomplete names what a
// crash left half-made.
type Recoverable interface {
	RecordID() string
	IsComplete() bool
}

// Recover loads the records of bucket at start-up: each one a crash left
// incomplete goes to rollback (whose failure is logged), each other to
// keep. A record that cannot be decoded is logged and left out. kind names
// the records in log lines ("sandbox", "container").
func Recover[T Recoverable](s *Store, bucket, kind string, rollback func(T) error, keep func(T)) error {
	recs, err := decodeAll[T](s, bucket, kind)
	if err != nil {
		return fmt.Errorf("load %s records: %w", kind, err)
	}
	for _, rec := range recs {
		if rec.IsComplete() {
			keep(rec)
			continue
		}
		log := logrus.WithField(kind, rec.RecordID())
		log.Infof("rolling back a %s left half-created", kind)
		if err := rollback(rec); err != nil {
			log.WithError(err).Warnf("rolling back a half-created %s", kind)
		}
	}
	return nil
}

// decodeAll decodes every record of bucket, on every CPU: decoding is most
// of a start-up's work with hundreds of records, and nothing serves until
// it is done. A record that cannot be decoded is logged and left out.
func decodeAll[T any](s *Store, bucket, kind string) ([]T, error) {
	var keys []string
	var raw [][]byte
	err := s.ForEach(bucket, func(key string, data []byte) error {
		keys = append(keys, key)
		raw = append(raw, bytes.Clone(data)) // data lives only as long as the transaction
		return nil
	})
	if err != nil {
		return nil, err
	}
	recs := make([]T, len(raw))
	ok := make([]bool, len(raw))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(raw))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(raw); i += workers {
				if err := Decode(raw[i], &recs[i]); err != nil {
					logrus.WithError(err).WithField(kind, keys[i]).Warnf("unreadable %s record; dropping it", kind)
					continue
				}
				ok[i] = true
			}
		})
	}
	wg.Wait()
	out := recs[:0]
	for i := range recs {
		if ok[i] {
			out = append(out, recs[i])
		}
	}
	return out, nil
}

// Decode decodes a record as encoding/json would, faster: with hundreds of
// records, decoding is what a start-up waits on. Records are written by
// encoding/json (Put); storetest.CheckDecode holds the two to the same
// result for each kind of record.
func Decode(data []byte, v any) error { return gojson.Unmarshal(data, v) }
