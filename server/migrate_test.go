package server

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/spec"
)

// legacyRecord is a container record as berth wrote it before the
// container package kept its own config: the CRI messages as protobuf JSON.
type legacyRecord struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Config    []byte    `json:"config"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	Complete  bool      `json:"complete"`
	Pid       int       `json:"pid"`
	Resources []byte    `json:"resources,omitempty"`
}

// A node upgraded across the record change keeps its containers: names,
// labels, mounts and resources in force come back.
func TestMigrateContainerRecords(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg, err := protojson.Marshal(&runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "app", Attempt: 1},
		Image:    &runtimeapi.ImageSpec{Image: "busybox"},
		Labels:   map[string]string{"io.kubernetes.pod.name": "web"},
		Mounts:   []*runtimeapi.Mount{{ContainerPath: "/data", HostPath: "/srv", Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}},
		Linux:    &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{CpuShares: 2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	resized, err := protojson.Marshal(&runtimeapi.LinuxContainerResources{CpuShares: 512, MemoryLimitInBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	old := legacyRecord{ID: "c1", Name: "k8s_app_web_default_uid_1", Config: cfg, State: "running", CreatedAt: time.Now(), Complete: true, Pid: 42, Resources: resized}
	if err := db.Put(container.Bucket, old.ID, old); err != nil {
		t.Fatal(err)
	}
	current := container.Record{ID: "c2", Config: container.Config{Name: "new"}, Complete: true}
	if err := db.Put(container.Bucket, current.ID, current); err != nil {
		t.Fatal(err)
	}

	if err := migrateContainerRecords(db); err != nil {
		t.Fatal(err)
	}
	recs := map[string]container.Record{}
	err = db.ForEach(container.Bucket, func(key string, data []byte) error {
		var rec container.Record
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Errorf("record %s after migration: %v", key, err)
		}
		recs[key] = rec
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := recs["c1"]
	switch {
	case got.Name != old.Name || got.Pid != 42 || got.State != container.Running || !got.Complete:
		t.Errorf("record fields lost: %+v", got)
	case got.Config.Name != "app" || got.Config.Attempt != 1 || got.Config.Image != "busybox" || got.Config.Labels["io.kubernetes.pod.name"] != "web":
		t.Errorf("config = %+v", got.Config)
	case len(got.Config.Mounts) != 1 || got.Config.Mounts[0].HostPath != "/srv" || got.Config.Mounts[0].Propagation != spec.PropagationBidirectional:
		t.Errorf("mounts = %+v", got.Config.Mounts)
	case got.Resources == nil || got.Resources.CPUShares != 512 || got.Resources.MemoryLimit != 1<<30:
		t.Errorf("resources in force = %+v", got.Resources)
	}
	if recs["c2"].Config.Name != "new" {
		t.Errorf("a current record changed: %+v", recs["c2"])
	}
	// Run again: nothing left to translate, nothing changes.
	if err := migrateContainerRecords(db); err != nil {
		t.Fatal(err)
	}
}
