package container

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/events"
	"github.com/berth-dev/berth/internal/fsutil"
	"github.com/berth-dev/berth/internal/ids"
	"github.com/berth-dev/berth/internal/names"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/trace"
	"github.com/berth-dev/berth/internal/trash"
	"github.com/berth-dev/berth/oci"
	"github.com/berth-dev/berth/spec"
	"github.com/sirupsen/logrus"
)

// Bucket is where container records are kept in the metadata store.
const Bucket = "containers"

// Options is what the container manager is made of.
type Options struct {
	Root         string
	RunRoot      string
	CgroupDriver string
	Runtimes     *oci.Runtimes
	Monitor      *conmon.Monitor
	// Host is what the host offers containers, probed once at start-up.
	Host   *spec.Host
	DB     *store.Store
	Images *image.Store
	// Events, if not nil, hears of each container created, started,
	// stopped and deleted.
	Events *events.Broker
}

// Manager owns every container of the node.
type Manager struct {
	opts  Options
	names *names.Registry

	mu         sync.RWMutex // guards containers and creating; never held across slow work
	containers map[string]*Container
	// creating are the creates at work, by container ID, the runtime's
	// create after CreateContainer has returned included: their images are
	// in use and their pod cannot be removed under them, listed or not
	// yet.
	creating map[string]*creation

	cpuRates cgroups.CPURates
	layers   layerUsages // writable layer measures
	// releases are the runtime deletes at work after exits
	// (releaseAfterExit).
	releases sync.WaitGroup
	// restored are the containers loaded at start-up, until
	// WatchRestored takes them.
	restored []*Container
	// criu says, once probed, whether the host can checkpoint.
	criu func() error
	// bundlesTrash and dirsTrash take removed containers' bundles and dirs.
	bundlesTrash, dirsTrash *trash.Bin
}

// NewManager loads the containers a previous run left, refreshes their
// state from conmon's exit files, and rolls back half-created ones.
func NewManager(ctx context.Context, opts Options) (*Manager, error) {
	if opts.Host == nil || opts.Runtimes == nil || opts.Monitor == nil || opts.DB == nil || opts.Images == nil {
		return nil, fmt.Errorf("container manager: host facts, runtimes, monitor, store and images are all needed")
	}
	m := &Manager{opts: opts, names: names.New(), containers: map[string]*Container{}, creating: map[string]*creation{},
		criu: sync.OnceValue(checkCRIU)}
	if err := proc.WatchExits(); err != nil {
		logrus.WithError(err).Warn("container states are read from /proc on every status call")
	}
	for _, d := range []string{m.bundlesDir(), m.dirsDir(), opts.Monitor.ExitDir, opts.Monitor.SocketDir} {
		if err := fsutil.PrivateDir(d); err != nil {
			return nil, err
		}
	}
	// A removed container's dirs are renamed into the trash of their
	// filesystem and deleted in the background.
	var err error
	if m.bundlesTrash, err = trash.Open(filepath.Join(opts.RunRoot, "trash")); err != nil {
		return nil, err
	}
	if m.dirsTrash, err = trash.Open(filepath.Join(opts.Root, "trash")); err != nil {
		return nil, err
	}
	err = store.Recover(opts.DB, Bucket, "container",
		func(rec Record) error {
			if err := m.destroy(ctx, &rec); err != nil {
				return err
			}
			return opts.DB.Delete(Bucket, rec.ID)
		},
		func(rec Record) {
			if rec.reconcileReboot() {
				if err := m.save(rec); err != nil {
					logrus.WithError(err).WithField("container", rec.ID).Warn("saving container state")
				}
			}
			// Its monitor is not berth's child: a monitor re-parents to
			// the nearest subreaper above the berth that died, or init.
			// Not refreshed here but with its watch, below: until then
			// every look at it refreshes it (look), and berth serves
			// sooner after a restart with many containers.
			c := &Container{rec: rec}
			m.containers[rec.ID] = c
			m.names.Restore(rec.Name, rec.ID)
		})
	if err != nil {
		return nil, err
	}
	if err := m.watchExits(ctx); err != nil {
		return nil, err
	}
	m.restored = ids.Values(m.containers)
	return m, nil
}

// WatchRestored refreshes the containers a previous run left (an exit
// while berth was down is seen, announced and saved) and watches their
// monitors, in the background. It is called once berth serves: until a
// container's watch is in place its state is read on each look, so a
// restart with many containers answers its first call sooner.
func (m *Manager) WatchRestored() {
	found := m.restored
	m.restored = nil
	go func() {
		for _, c := range found {
			m.refresh(c)
			m.watchMonitor(c)
		}
	}()
}

// publish tells the event subscribers what happened to the container.
func (m *Manager) publish(kind events.Kind, rec *Record) {
	m.opts.Events.Publish(events.Event{Kind: kind, ID: rec.ID, SandboxID: rec.SandboxID})
}

func (m *Manager) bundlesDir() string { return filepath.Join(m.opts.RunRoot, "containers") }
func (m *Manager) dirsDir() string    { return filepath.Join(m.opts.Root, "containers") }

// Get finds a container by ID or unique ID prefix, with its state refreshed.
func (m *Manager) Get(idOrPrefix string) (*Container, error) {
	m.mu.RLock()
	c, err := ids.Find(m.containers, idOrPrefix, "container", ErrNotFound, ErrInvalid)
	m.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	m.look(c)
	return c, nil
}

// Status returns the record of a container, its state refreshed.
func (m *Manager) Status(idOrPrefix string) (Record, error) {
	c, err := m.Get(idOrPrefix)
	if err != nil {
		return Record{}, err
	}
	return c.Snapshot(), nil
}

// Running returns the record of a running container; one in another state
// is ErrNotRunning.
func (m *Manager) Running(id string) (Record, error) {
	rec, err := m.Status(id)
	if err != nil {
		return Record{}, err
	}
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
	// Sorted before the records are copied: moving records of 2 KB about
	// took most of a list of 250.
	slices.SortFunc(all, func(a, b *Container) int { return a.createdAt().Compare(b.createdAt()) })
	out := make([]Record, len(all))
	for i, c := range all {
		m.look(c)
		out[i] = c.Snapshot()
	}
	return out
}

// The steps of a container's Startup that end after CreateContainer has
// returned: the runtime's create (createInRuntime) and its start.
const (
	RuntimeCreateStep = "runtime create"
	StartStep         = "runtime start"
)

// Startup returns when each step of the container's creation and start
// began and ended, as recorded: no state refresh, for the RPCs' metrics.
func (m *Manager) Startup(id string) (trace.Steps, error) {
	m.mu.RLock()
	c, ok := m.containers[id]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return slices.Clone(c.Snapshot().Startup), nil
}

// OfPod returns a snapshot of the pod's containers, states refreshed,
// oldest first: what a pod's status carries, at the cost of its own
// containers only.
func (m *Manager) OfPod(sandboxID string) []Record {
	cs := m.ofPod(sandboxID)
	out := make([]Record, len(cs))
	for i, c := range cs {
		m.refresh(c)
		out[i] = c.Snapshot()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// InUse says whether any container was created (or is being created) from
// the image or mounts it as an image volume.
func (m *Manager) InUse(imageID string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, cr := range m.creating {
		if slices.Contains(cr.images, imageID) {
			return true
		}
	}
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

func (m *Manager) save(rec Record) error { return m.opts.DB.Put(Bucket, rec.ID, rec) }

// persist saves the container's record as it is now, unless the container
// has been removed. Saving the latest state, not a copy taken before,
// keeps saves in order whatever order their callers get here in.
func (m *Manager) persist(c *Container) error {
	c.persisting.Lock()
	defer c.persisting.Unlock()
	if c.removed {
		return nil
	}
	return m.save(c.Snapshot())
}

// forget deletes the container's record for good.
func (m *Manager) forget(c *Container) error {
	c.persisting.Lock()
	defer c.persisting.Unlock()
	if err := m.opts.DB.Delete(Bucket, c.ID()); err != nil {
		return err
	}
	c.removed = true
	return nil
}

// lockOp takes the container's operation lock; a container removed while
// the caller waited for it is ErrNotFound.
func (m *Manager) lockOp(c *Container) error {
	c.op.Lock()
	c.persisting.Lock()
	removed := c.removed
	c.persisting.Unlock()
	if removed {
		c.op.Unlock()
		return fmt.Errorf("%w: container %s was removed", ErrNotFound, c.ID())
	}
	return nil
}

// cgroupDriver is the driver's name as internal/cgroups reads paths.
func (m *Manager) cgroupDriver() cgroups.Driver { return cgroups.Driver(m.opts.CgroupDriver) }
