package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/cni"
	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/ids"
	"github.com/berth-dev/berth/internal/names"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/oci"
)

const bucket = "sandboxes"

// PodContainers stops and removes the containers of a pod; the container
// manager implements it. Stop and remove of a sandbox go through it first.
type PodContainers interface {
	StopPodContainers(ctx context.Context, sandboxID string) error
	RemovePodContainers(ctx context.Context, sandboxID string) error
}

// Options is what the manager needs from berth's configuration.
type Options struct {
	RunRoot      string
	CgroupDriver string
	Pause        config.PauseConfig
	ShmSize      int64
	Runtimes     oci.Runtimes
	// Cgroups is what the host's cgroups offer, probed once at start-up.
	Cgroups *cgroups.Host
}

// Manager owns every pod sandbox of the node.
type Manager struct {
	opts       Options
	db         *store.Store
	cni        *cni.Manager
	names      *names.Registry
	containers PodContainers

	mu        sync.RWMutex // guards sandboxes; never held across slow work
	sandboxes map[string]*Sandbox
}

// NewManager loads the sandboxes a previous run left and rolls back those
// it left half-created.
func NewManager(ctx context.Context, opts Options, db *store.Store, net *cni.Manager) (*Manager, error) {
	if opts.Cgroups == nil {
		return nil, fmt.Errorf("sandbox manager: no cgroup host facts (cgroups.Probe)")
	}
	m := &Manager{opts: opts, db: db, cni: net, names: names.New(), sandboxes: map[string]*Sandbox{}}
	for _, d := range []string{m.nsDir(), m.sandboxesDir()} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	if err := preparePauseRootfs(m.pauseRootfs()); err != nil {
		return nil, fmt.Errorf("prepare pause rootfs: %w", err)
	}
	if err := m.restore(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// SetContainers connects the container manager.
func (m *Manager) SetContainers(c PodContainers) { m.containers = c }

func (m *Manager) nsDir() string        { return filepath.Join(m.opts.RunRoot, "ns") }
func (m *Manager) sandboxesDir() string { return filepath.Join(m.opts.RunRoot, "sandboxes") }
func (m *Manager) pauseRootfs() string  { return filepath.Join(m.opts.RunRoot, "pause-rootfs") }

// runtime returns the OCI runtime of a handler name ("" = the default)
// and the handler's name.
func (m *Manager) runtime(handler string) (*oci.Runtime, string, error) {
	rt, err := m.opts.Runtimes.Get(handler)
	if err != nil {
		return nil, "", err
	}
	return rt, rt.Handler, nil
}

// Get finds a sandbox by ID or unique ID prefix.
func (m *Manager) Get(idOrPrefix string) (*Sandbox, error) {
	m.mu.RLock()
	sb, err := ids.Find(m.sandboxes, idOrPrefix, "sandbox", ErrNotFound, ErrInvalid)
	m.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	return sb, nil
}

// List returns a snapshot of every sandbox.
func (m *Manager) List() []Record {
	m.mu.RLock()
	all := ids.Values(m.sandboxes)
	m.mu.RUnlock()
	out := make([]Record, len(all))
	for i, sb := range all {
		out[i] = sb.Snapshot()
	}
	return out
}

func (m *Manager) save(rec Record) error {
	return m.db.Put(bucket, rec.ID, rec)
}

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// restore loads the records of a previous run. A sandbox whose pause
// process is gone is not ready; one left half-created is rolled back.
func (m *Manager) restore(ctx context.Context) error {
	var recs []Record
	err := m.db.ForEach(bucket, func(key string, data []byte) error {
		var rec Record
		if err := json.Unmarshal(data, &rec); err != nil {
			logrus.WithError(err).WithField("sandbox", key).Warn("unreadable sandbox record; dropping it")
			return nil
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load sandboxes: %w", err)
	}
	for _, rec := range recs {
		log := logrus.WithField("sandbox", rec.ID)
		if !rec.Complete {
			log.Info("rolling back a sandbox left half-created")
			m.release(ctx, &rec)
			if err := m.destroy(&rec); err != nil {
				log.WithError(err).Warn("rolling back a half-created sandbox")
			}
			continue
		}
		if rec.State == Ready && !m.pauseAlive(&rec) {
			rec.State = NotReady
			if err := m.save(rec); err != nil {
				log.WithError(err).Warn("saving sandbox state")
			}
		}
		m.sandboxes[rec.ID] = &Sandbox{rec: rec}
		m.names.Restore(rec.Config.FullName(), rec.ID)
	}
	return nil
}
