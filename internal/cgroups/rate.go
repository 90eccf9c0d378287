package cgroups

import (
	"sync"
	"time"
)

// CPURates turns readings of cumulative CPU time into rates (nanoseconds
// of CPU per second, "nano cores"), keeping each object's last reading.
// The zero value is ready; it is safe for concurrent use.
type CPURates struct {
	mu   sync.Mutex
	last map[string]cpuSample
}

type cpuSample struct {
	nanos uint64
	at    time.Time
}

// minRateWindow is the least time between two readings a rate is taken
// over: closer ones are noise, and the older reading is kept.
const minRateWindow = 100 * time.Millisecond

// Rate returns the rate between the object's last reading and this one,
// and keeps this one; false on the first reading, one too close to the
// last, or a counter that went back (a new cgroup of the same name).
func (r *CPURates) Rate(id string, nanos uint64, at time.Time) (uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]cpuSample{}
	}
	prev, ok := r.last[id]
	if ok && at.Sub(prev.at) < minRateWindow {
		return 0, false
	}
	r.last[id] = cpuSample{nanos: nanos, at: at}
	if !ok || nanos < prev.nanos {
		return 0, false
	}
	return uint64(float64(nanos-prev.nanos) / at.Sub(prev.at).Seconds()), true
}

// Forget drops the object's last reading.
func (r *CPURates) Forget(id string) {
	r.mu.Lock()
	delete(r.last, id)
	r.mu.Unlock()
}
