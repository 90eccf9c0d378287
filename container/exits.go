package container

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"
)

// watchExits refreshes a container the moment conmon writes its exit file
// (conmon renames it into place whole), so that its state and its Stopped
// event follow its exit, not the next status call. It runs until ctx ends.
func (m *Manager) watchExits(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch exit files: %w", err)
	}
	if err := w.Add(m.opts.Monitor.ExitDir); err != nil {
		w.Close()
		return fmt.Errorf("watch exit files in %s: %w", m.opts.Monitor.ExitDir, err)
	}
	go func() {
		defer w.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) {
					continue
				}
				m.mu.RLock()
				c := m.containers[filepath.Base(ev.Name)]
				m.mu.RUnlock()
				if c != nil {
					m.refresh(c)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				// An overflowed queue loses events, not exits: the next
				// status call still reads the file.
				logrus.WithError(err).Warn("watching exit files")
			}
		}
	}()
	return nil
}
