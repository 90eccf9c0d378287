package sandbox

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/cni"
	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/events"
	"github.com/berth-dev/berth/internal/fsutil"
	"github.com/berth-dev/berth/internal/ids"
	"github.com/berth-dev/berth/internal/names"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/oci"
	"github.com/berth-dev/berth/spec"
)

const bucket = "sandboxes"

// PodContainers stops and removes the containers of a pod; the container
// manager implements it. Stop and remove of a sandbox go through it first.
type PodContainers interface {
	StopPodContainers(ctx context.Context, sandboxID string) error
	RemovePodContainers(ctx context.Context, sandboxID string) error
}

// Options is what the sandbox manager is made of.
type Options struct {
	RunRoot string
	// UsernsRoot holds one dir per user-namespaced pod, owned by its mapped
	// root, that its containers' root filesystems are mounted in: the
	// runtime reaches them as that unprivileged host user.
	UsernsRoot   string
	CgroupDriver string
	Pause        config.PauseConfig
	ShmSize      int64
	Runtimes     *oci.Runtimes
	// Host is what the host offers, probed once at start-up: its cgroups
	// and the lowest OOM score the runtime may set.
	Host       *spec.Host
	DB         *store.Store
	Network    *cni.Manager
	Containers PodContainers
	// Events, if not nil, hears of each sandbox created, started (ready),
	// stopped and deleted.
	Events *events.Broker
}

// Manager owns every pod sandbox of the node.
type Manager struct {
	opts  Options
	names *names.Registry

	mu        sync.RWMutex // guards sandboxes; never held across slow work
	sandboxes map[string]*Sandbox

	cpuRates cgroups.CPURates // of pod cgroups, for their stats

	// restored are the sandboxes loaded at start-up, until
	// WatchRestored takes them.
	restored []*Sandbox

	initMnt      initMountNS // of the pod inits berth starts
	settleFailed sync.Once   // warned once: a pod init's cgroup or OOM score

	usernsInit    sync.Once // checks once whether berth can start user-namespaced pods' inits
	usernsInitErr error     // why it cannot, if it cannot
}

// NewManager loads the sandboxes a previous run left and rolls back those
// it left half-created.
func NewManager(ctx context.Context, opts Options) (*Manager, error) {
	if opts.Host == nil || opts.Runtimes == nil || opts.DB == nil || opts.Network == nil || opts.Containers == nil {
		return nil, fmt.Errorf("sandbox manager: host facts, runtimes, store, network and containers are all needed")
	}
	m := &Manager{opts: opts, names: names.New(), sandboxes: map[string]*Sandbox{}}
	for _, d := range []string{m.nsDir(), m.sandboxesDir()} {
		if err := fsutil.PrivateDir(d); err != nil {
			return nil, err
		}
	}
	if err := preparePauseRootfs(m.pauseRootfs()); err != nil {
		return nil, fmt.Errorf("prepare pause rootfs: %w", err)
	}
	if err := m.restore(ctx); err != nil {
		return nil, err
	}
	m.restored = ids.Values(m.sandboxes)
	return m, nil
}

// WatchRestored watches the pause processes and pod inits of the sandboxes
// a previous run left, in the background, as the containers' monitors
// are: it is called once berth serves, so a restart with many pods
// answers its first call sooner.
func (m *Manager) WatchRestored() {
	found := m.restored
	m.restored = nil
	go func() {
		for _, sb := range found {
			sb.watchPause()
		}
	}()
}

func (m *Manager) nsDir() string        { return filepath.Join(m.opts.RunRoot, "ns") }
func (m *Manager) sandboxesDir() string { return filepath.Join(m.opts.RunRoot, "sandboxes") }
func (m *Manager) pauseRootfs() string  { return filepath.Join(m.opts.RunRoot, "pause-rootfs") }

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

// Status returns the record of a sandbox.
func (m *Manager) Status(idOrPrefix string) (Record, error) {
	sb, err := m.Get(idOrPrefix)
	if err != nil {
		return Record{}, err
	}
	return sb.Snapshot(), nil
}

// List returns a snapshot of every sandbox, oldest first.
func (m *Manager) List() []Record {
	m.mu.RLock()
	all := ids.Values(m.sandboxes)
	m.mu.RUnlock()
	// Sorted before the records are copied: moving records of 2 KB about
	// took most of a list of 250.
	slices.SortFunc(all, func(a, b *Sandbox) int { return a.createdAt().Compare(b.createdAt()) })
	out := make([]Record, len(all))
	for i, sb := range all {
		out[i] = sb.Snapshot()
	}
	return out
}

// publish tells the event subscribers what happened to the sandbox.
func (m *Manager) publish(kind events.Kind, id string) {
	m.opts.Events.Publish(events.Event{Kind: kind, ID: id, SandboxID: id})
}

func (m *Manager) save(rec Record) error {
	return m.opts.DB.Put(bucket, rec.ID, rec)
}

// restore loads the records of a previous run. A sandbox whose pause
// process is gone is not ready; one left half-created is rolled back.
func (m *Manager) restore(ctx context.Context) error {
	return store.Recover(m.opts.DB, bucket, "sandbox",
		func(rec Record) error {
			rec.reconcileReboot() // no pause pid of an earlier boot is signalled
			// A plugin the dead berth started may still be adding the pod:
			// it is stopped before DEL, or it would take an IP after it.
			if err := cni.KillOrphanPlugins(rec.ID); err != nil {
				return err
			}
			// Likewise a runtime still creating its pause process.
			if rt, err := m.opts.Runtimes.Get(rec.Handler); err == nil {
				if err := rt.KillOrphans(rec.ID); err != nil {
					return err
				}
			}
			if err := m.release(ctx, &rec); err != nil {
				// What could not be released (a CNI DEL whose plugin
				// fails, say) stays named by the record, and the rollback
				// is retried until it is done.
				go m.retryRollback(rec)
				return err
			}
			return m.destroy(&rec)
		},
		func(rec Record) {
			rebooted := rec.reconcileReboot()
			if rebooted || rec.State == Ready && !pauseRuns(&rec, nil) {
				rec.State = NotReady
				if err := m.save(rec); err != nil {
					logrus.WithError(err).WithField("sandbox", rec.ID).Warn("saving sandbox state")
				}
			}
			if rec.CgroupParent == "" {
				// A record from before the parent was kept resolved.
				rec.CgroupParent, _ = oci.CgroupParent(m.opts.CgroupDriver, rec.Config.CgroupParent)
			}
			m.sandboxes[rec.ID] = newSandbox(rec)
			m.names.Restore(rec.Config.FullName(), rec.ID)
		})
}
