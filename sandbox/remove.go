package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/berth-dev/berth/internal/events"
)

// Remove removes the pod's containers, stops what still runs, and deletes
// every trace of the sandbox. An unknown sandbox is not an error (kubelet
// may call it twice, or after a restart lost nothing).
func (m *Manager) Remove(ctx context.Context, id string) error {
	sb, err := m.Get(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	sb.op.Lock()
	defer sb.op.Unlock()
	if sb.removed {
		return nil // a removal this call waited for did it
	}
	if err := m.opts.Containers.RemovePodContainers(ctx, sb.ID()); err != nil {
		return fmt.Errorf("remove containers of the pod: %w", err)
	}
	rec := sb.Snapshot()
	if err := m.release(ctx, &rec); err != nil {
		sb.update(func(r *Record) { *r = rec; r.State = NotReady })
		return err
	}
	if err := m.destroy(&rec); err != nil {
		return err
	}
	sb.removed = true
	m.mu.Lock()
	delete(m.sandboxes, rec.ID)
	m.mu.Unlock()
	sb.unwatchPause()
	m.names.Release(rec.Config.FullName(), rec.ID)
	m.cpuRates.Forget(rec.ID)
	if rec.State == Ready {
		m.publish(events.Stopped, rec.ID)
	}
	m.publish(events.Deleted, rec.ID)
	return nil
}

// destroy removes what a released sandbox still has: the netns pin, its
// directory and its record. Run after release.
func (m *Manager) destroy(rec *Record) error {
	if err := unpinNS(rec.NetNS); err != nil {
		return err
	}
	if err := unpinNamespaces(rec.PauseNS); err != nil {
		return err
	}
	if err := os.RemoveAll(rec.Dir); err != nil {
		return fmt.Errorf("remove sandbox dir: %w", err)
	}
	if err := m.removeUsernsDir(rec); err != nil {
		return err
	}
	return m.opts.DB.Delete(bucket, rec.ID)
}
