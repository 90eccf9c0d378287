package server

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sirupsen/logrus"
	"google.golang.org/protobuf/encoding/protojson"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/store"
)

// migrateContainerRecords rewrites container records written before the
// container package stored its own config: those held the CRI
// ContainerConfig and the resources in force as protobuf JSON (base64 in
// the record's JSON), under "config" and "resources". The CRI is known
// here only, so the records are translated here, once, before the
// container manager loads them; a record that cannot be translated is left
// as it was (the manager then warns about it).
func migrateContainerRecords(db *store.Store) error {
	type legacy struct {
		key  string
		data map[string]json.RawMessage
	}
	var old []legacy
	err := db.ForEach(container.Bucket, func(key string, data []byte) error {
		// Every record of this berth has the key, and only as a key can
		// the text be in a record (in a string its quotes are escaped):
		// a start-up with many containers decodes none of them here.
		if bytes.Contains(data, []byte(`"container":`)) {
			return nil
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(data, &fields) != nil {
			return nil
		}
		if _, done := fields["container"]; done {
			return nil
		}
		if _, ok := fields["config"]; ok {
			old = append(old, legacy{key, fields})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, rec := range old {
		log := logrus.WithField("container", rec.key)
		if err := migrateContainerRecord(rec.data); err != nil {
			log.WithError(err).Warn("cannot translate a container record of an older berth")
			continue
		}
		if err := db.Put(container.Bucket, rec.key, rec.data); err != nil {
			return err
		}
		log.Info("container record of an older berth translated")
	}
	return nil
}

// migrateContainerRecord translates one legacy record's fields in place.
func migrateContainerRecord(fields map[string]json.RawMessage) error {
	var raw []byte // encoding/json reads the base64 of a []byte field
	if err := json.Unmarshal(fields["config"], &raw); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var cri runtimeapi.ContainerConfig
	if err := protojson.Unmarshal(raw, &cri); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	cfg, err := containerConfig(&cri)
	if err != nil {
		return err
	}
	if res, ok := fields["resources"]; ok {
		raw = nil
		if err := json.Unmarshal(res, &raw); err != nil {
			return fmt.Errorf("resources: %w", err)
		}
		var r runtimeapi.LinuxContainerResources
		if err := protojson.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("resources: %w", err)
		}
		translated := specResources(&r)
		if fields["resources"], err = json.Marshal(&translated); err != nil {
			return err
		}
	}
	if fields["container"], err = json.Marshal(cfg); err != nil {
		return err
	}
	delete(fields, "config")
	return nil
}
