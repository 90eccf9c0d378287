package oci

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/ids"
	"github.com/berth-dev/berth/internal/names"
	"github.com/berth-dev/berth/internal/reaper"
	"github.com/berth-dev/berth/internal/store"
)

const bucket = "containers"

// Options is what the container manager needs from berth's configuration.
type Options struct {
	Root         string
	RunRoot      string
	CgroupDriver string
	Runtimes     Runtimes
	Monitor      *conmon.Monitor
	// Cgroups is what the host's cgroups offer, probed once at start-up.
	Cgroups *cgroups.Host
}

// Manager owns every container of the node.
type Manager struct {
	opts   Options
	db     *store.Store
	images *image.Store
	names  *names.Registry

	mu         sync.RWMutex // guards containers; never held across slow work
	containers map[string]*Container
}

// NewManager loads the containers a previous run left, refreshes their
// state from conmon's exit files, and rolls back half-created ones.
func NewManager(ctx context.Context, opts Options, db *store.Store, images *image.Store) (*Manager, error) {
	if opts.Cgroups == nil {
		return nil, fmt.Errorf("container manager: no cgroup host facts (cgroups.Probe)")
	}
	m := &Manager{opts: opts, db: db, images: images, names: names.New(), containers: map[string]*Container{}}
	for _, d := range []string{m.bundlesDir(), m.dirsDir(), opts.Monitor.ExitDir, opts.Monitor.SocketDir} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	var recs []Record
	err := db.ForEach(bucket, func(key string, data []byte) error {
		var rec Record
		if err := json.Unmarshal(data, &rec); err != nil {
			logrus.WithError(err).WithField("container", key).Warn("unreadable container record; dropping it")
			return nil
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load containers: %w", err)
	}
	for _, rec := range recs {
		if !rec.Complete {
			logrus.WithField("container", rec.ID).Info("rolling back a container left half-created")
			if err := m.destroy(ctx, &rec); err != nil {
				logrus.WithError(err).WithField("container", rec.ID).Warn("rolling back a half-created container")
			}
			continue
		}
		if rec.ConmonPid > 0 {
			reaper.Adopt(rec.ConmonPid) // a no-op unless it is berth's child
		}
		c := &Container{rec: rec}
		m.refresh(c)
		m.containers[rec.ID] = c
		m.names.Restore(rec.Name, rec.ID)
	}
	return m, nil
}

func (m *Manager) bundlesDir() string { return filepath.Join(m.opts.RunRoot, "containers") }
func (m *Manager) dirsDir() string    { return filepath.Join(m.opts.Root, "containers") }

// runtime returns the OCI runtime of a handler name ("" = the default).
func (m *Manager) runtime(handler string) (*Runtime, error) {
	return m.opts.Runtimes.Get(handler)
}

// Get finds a container by ID or unique ID prefix, with its state refreshed.
func (m *Manager) Get(idOrPrefix string) (*Container, error) {
	m.mu.RLock()
	c, err := ids.Find(m.containers, idOrPrefix, "container", ErrNotFound, ErrInvalid)
	m.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	m.refresh(c)
	return c, nil
}

// Running returns the record of a running container; one in another state
// is ErrNotRunning.
func (m *Manager) Running(id string) (Record, error) {
	c, err := m.Get(id)
	if err != nil {
		return Record{}, err
	}
	rec := c.Snapshot()
	if rec.State != Running {
		return Record{}, fmt.Errorf("%w: container %s is %s", ErrNotRunning, rec.ID, rec.State)
	}
	return rec, nil
}

// List returns a snapshot of every container, states refreshed, oldest
// first.
func (m *Manager) List() []Record {
	m.mu.RLock()
	all := ids.Values(m.containers)
	m.mu.RUnlock()
	out := make([]Record, len(all))
	for i, c := range all {
		m.refresh(c)
		out[i] = c.Snapshot()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// InUse says whether any container was created from the image or mounts
// it as an image volume.
func (m *Manager) InUse(imageID string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, c := range m.containers {
		rec := c.Snapshot()
		if rec.ImageID == imageID || slices.ContainsFunc(rec.ImageVolumes, func(v ImageVolume) bool { return v.ImageID == imageID }) {
			return true
		}
	}
	return false
}

// ofPod lists the containers of a sandbox.
func (m *Manager) ofPod(sandboxID string) []*Container {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Container
	for _, c := range m.containers {
		if c.Snapshot().SandboxID == sandboxID {
			out = append(out, c)
		}
	}
	return out
}

func (m *Manager) save(rec Record) error { return m.db.Put(bucket, rec.ID, rec) }

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
