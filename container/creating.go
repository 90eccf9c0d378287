package container

import (
	"context"
	"fmt"
)

// creation is a create at work.
type creation struct {
	sandboxID string
	images    []string      // IDs of its image and image volumes
	done      chan struct{} // closed when it has finished, made or not
}

// beginCreate registers a create of container id in a pod with its images,
// then checks the images are still in the store: an image removed before
// the registration is caught here, one removed after sees it in use.
// end must be called when the create has finished.
func (m *Manager) beginCreate(id, sandboxID string, images []string) (end func(), err error) {
	cr := &creation{sandboxID: sandboxID, images: images, done: make(chan struct{})}
	m.mu.Lock()
	m.creating[id] = cr
	m.mu.Unlock()
	end = func() {
		m.mu.Lock()
		delete(m.creating, id)
		m.mu.Unlock()
		close(cr.done)
	}
	for _, img := range images {
		if _, err := m.opts.Images.Get(img); err != nil {
			end()
			return nil, fmt.Errorf("image %s: %w", img, err)
		}
	}
	return end, nil
}

// waitCreates waits until no create in the pod is at work, so that what
// they made is seen by the stop or remove that follows.
func (m *Manager) waitCreates(ctx context.Context, sandboxID string) error {
	return m.awaitCreates(ctx, func(cr *creation) bool { return cr.sandboxID == sandboxID })
}

// WaitCreates waits until no create is at work, the runtime's creates
// that run on after CreateContainer returned included. berth waits for
// them at shutdown: one cut off would be rolled back at the next start,
// and kubelet would find the container it was given gone.
func (m *Manager) WaitCreates(ctx context.Context) error {
	return m.awaitCreates(ctx, func(*creation) bool { return true })
}

// awaitCreates waits for the creates at work that match.
func (m *Manager) awaitCreates(ctx context.Context, match func(*creation) bool) error {
	m.mu.RLock()
	var pending []*creation
	for _, cr := range m.creating {
		if match(cr) {
			pending = append(pending, cr)
		}
	}
	m.mu.RUnlock()
	for _, cr := range pending {
		select {
		case <-cr.done:
		case <-ctx.Done():
			return fmt.Errorf("waiting for a container being created: %w", ctx.Err())
		}
	}
	return nil
}
