package container

import (
	"context"

	"github.com/sirupsen/logrus"
)

// releaseAfterExit deletes an exited container from its OCI runtime in the
// background, as containerd does on a task's exit: the runtime's state and
// the container's cgroup go as soon as its process is gone, and
// RemoveContainer (kubelet's garbage collection, often much later) is left
// only files to remove. A delete that fails is logged and left to
// RemoveContainer, which runs it again.
//
// A container whose start is still at work is left alone: the runtime's
// start may not have returned yet, and Start releases it when it has.
func (m *Manager) releaseAfterExit(c *Container) {
	c.mu.Lock()
	if c.rec.State != Exited || c.rec.RuntimeDeleted || !c.rec.Complete || c.starting || c.released != nil {
		c.mu.Unlock()
		return
	}
	done := make(chan struct{})
	c.released = done
	rec := c.rec
	c.mu.Unlock()
	m.releases.Go(func() {
		defer close(done)
		rt, err := m.opts.Runtimes.Get(rec.Handler)
		if err != nil {
			return // its handler is gone: RemoveContainer cleans up without it
		}
		ctx, cancel := context.WithTimeout(context.Background(), runtimeCallTimeout)
		defer cancel()
		log := logrus.WithField("container", rec.ID)
		if err := rt.Delete(ctx, rec.ID); err != nil {
			log.WithError(err).Warn("deleting the exited container from its runtime; RemoveContainer tries again")
			return
		}
		c.update(func(r *Record) { r.RuntimeDeleted = true })
		if err := m.persist(c); err != nil {
			log.WithError(err).Warn("saving container state")
		}
	})
}

// awaitRelease waits for the runtime's delete of an exited container:
// the one releaseAfterExit began, or one it begins now (the exit may have
// been seen by a watch that has not begun it yet), so that no second
// delete runs alongside it.
func (m *Manager) awaitRelease(ctx context.Context, c *Container) error {
	m.releaseAfterExit(c)
	c.mu.RLock()
	done := c.released
	c.mu.RUnlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
