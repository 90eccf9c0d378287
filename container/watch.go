package container

import (
	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/internal/proc"
)

// watchMonitor watches the exit of a live container's conmon. conmon
// writes the exit file (watched too, exits.go) and then exits, so with
// both watched a container's state is known without a look at /proc or
// the exit dir: status and list calls of 250 containers read memory only.
// A conmon gone (killed) while the container's process runs leaves that
// process to watch.
func (m *Manager) watchMonitor(c *Container) {
	rec := c.Snapshot()
	if rec.State == Exited {
		return
	}
	pid, start := rec.ConmonPid, rec.ConmonStart
	if !conmonRuns(&rec) {
		pid, start = rec.Pid, rec.PidStart
	}
	if pid <= 0 || start == 0 {
		return
	}
	w, err := proc.WatchExit(pid, start, func() {
		m.refresh(c)
		m.watchMonitor(c) // the process, if conmon went first
	})
	if err != nil {
		logrus.WithError(err).WithField("container", rec.ID).Debug("conmon not watched; its state is read on each status call")
		return
	}
	c.mu.Lock()
	old := c.monitor
	c.monitor = w
	c.mu.Unlock()
	if old != nil {
		old.Stop()
	}
}

// look brings a container's state up to date for a status or list call.
// One whose conmon is watched and runs is up to date already: its exit
// file and conmon's exit each refresh it as they happen.
func (m *Manager) look(c *Container) {
	c.mu.RLock()
	w := c.monitor
	c.mu.RUnlock()
	if w != nil && !w.Exited() {
		return
	}
	m.refresh(c)
}

// unwatch ends the watch of a container that exited or is removed.
func (c *Container) unwatch() {
	c.mu.Lock()
	w := c.monitor
	c.monitor = nil
	c.mu.Unlock()
	if w != nil {
		w.Stop()
	}
}
