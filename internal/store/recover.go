package store

import (
	"encoding/json"
	"fmt"

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
	var recs []T
	err := s.ForEach(bucket, func(key string, data []byte) error {
		var rec T
		if err := json.Unmarshal(data, &rec); err != nil {
			logrus.WithError(err).WithField(kind, key).Warnf("unreadable %s record; dropping it", kind)
			return nil
		}
		recs = append(recs, rec)
		return nil
	})
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
