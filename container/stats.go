package container

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/fsutil"
)

// Stats are what a container uses: its cgroup's numbers, its CPU rate and
// its writable layer.
type Stats struct {
	cgroups.Stats
	// CPUNanoCores is the CPU used per second (in nanoseconds of all
	// cores) since the previous stats of this container; HasCPURate is
	// false on the first.
	CPUNanoCores uint64
	HasCPURate   bool
	// WritableLayer is what the container wrote into its root filesystem
	// (its overlay upper dir), measured at WritableLayerAt.
	WritableLayer   fsutil.Usage
	WritableLayerAt time.Time
}

// Stats reads the container's cgroup and writable layer. A container
// whose cgroup is gone (it exited and was deleted) has zero usage.
func (m *Manager) Stats(id string) (Record, Stats, error) {
	rec, err := m.Status(id)
	if err != nil {
		return Record{}, Stats{}, err
	}
	return rec, m.StatsOf(&rec), nil
}

// StatsOf is Stats for a record in hand (ListContainerStats has them).
func (m *Manager) StatsOf(rec *Record) Stats {
	st := Stats{Stats: m.opts.Host.Cgroups.Stats(m.cgroupDriver(), rec.CgroupsPath)}
	st.CPUNanoCores, st.HasCPURate = m.cpuRates.Rate(rec.ID, st.CPUNanos, st.Timestamp)
	st.WritableLayer, st.WritableLayerAt = m.layers.usage(rec.ID, upperDir(rec))
	return st
}

// WritableLayers is what every container's writable layer takes, as last
// measured (no walk here: ImageFsInfo is called often).
func (m *Manager) WritableLayers() fsutil.Usage {
	m.mu.RLock()
	all := make([]Record, 0, len(m.containers))
	for _, c := range m.containers {
		all = append(all, c.Snapshot())
	}
	m.mu.RUnlock()
	var total fsutil.Usage
	for i := range all {
		u, _ := m.layers.cached(all[i].ID, upperDir(&all[i]))
		total.Bytes += u.Bytes
		total.Inodes += u.Inodes
	}
	return total
}

// forgetStats drops what the stats keep of a removed container.
func (m *Manager) forgetStats(id string) {
	m.cpuRates.Forget(id)
	m.layers.forget(id)
}

// upperDir is where the container's writes to its root filesystem go.
func upperDir(rec *Record) string { return filepath.Join(rec.Dir, "upper") }

// layerRefresh is how old a writable layer's measure may get before it is
// measured again: a walk of the upper dir, done in the background.
const layerRefresh = 10 * time.Second

// layerUsages caches each container's writable layer measure.
type layerUsages struct {
	mu      sync.Mutex
	entries map[string]*layerEntry
}

type layerEntry struct {
	usage     fsutil.Usage
	at        time.Time
	measuring bool
}

// usage returns the container's writable layer as last measured,
// measuring it now the first time and in the background once stale.
func (l *layerUsages) usage(id, dir string) (fsutil.Usage, time.Time) {
	l.mu.Lock()
	_, known := l.entries[id]
	l.mu.Unlock()
	if !known {
		u, at := measure(id, dir)
		l.mu.Lock()
		if e := l.entryLocked(id); e.at.IsZero() {
			e.usage, e.at = u, at
		}
		l.mu.Unlock()
	}
	return l.cached(id, dir)
}

// cached returns the last measure and starts a new one when it is stale;
// a container never measured reads zero until its measure is in.
func (l *layerUsages) cached(id, dir string) (fsutil.Usage, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entryLocked(id)
	if !e.measuring && time.Since(e.at) >= layerRefresh {
		e.measuring = true
		go func() {
			u, at := measure(id, dir)
			l.mu.Lock()
			e.usage, e.at, e.measuring = u, at, false
			l.mu.Unlock()
		}()
	}
	return e.usage, e.at
}

// entryLocked is the container's entry, made empty if it has none.
func (l *layerUsages) entryLocked(id string) *layerEntry {
	if l.entries == nil {
		l.entries = map[string]*layerEntry{}
	}
	e, ok := l.entries[id]
	if !ok {
		e = &layerEntry{}
		l.entries[id] = e
	}
	return e
}

func (l *layerUsages) forget(id string) {
	l.mu.Lock()
	delete(l.entries, id)
	l.mu.Unlock()
}

func measure(id, dir string) (fsutil.Usage, time.Time) {
	u, err := fsutil.DiskUsage(dir)
	if err != nil {
		logrus.WithError(err).WithField("container", id).Debug("measuring the writable layer")
	}
	return u, time.Now()
}
