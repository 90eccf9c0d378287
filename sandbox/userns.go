package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/internal/fsutil"
)

// usernsPauseDir is the pause rootfs's name in a pod's userns dir.
const usernsPauseDir = "pause"

// pauseRootfsOf is the rootfs the pod's pause process runs from: the
// shared one in the private runroot, or, for a pod with a user namespace,
// its own copy in its userns dir (the shared one is out of its reach).
func (m *Manager) pauseRootfsOf(rec *Record) string {
	if rec.UsernsDir != "" {
		return filepath.Join(rec.UsernsDir, usernsPauseDir)
	}
	return m.pauseRootfs()
}

// makeUsernsDir creates the pod's userns dir, 0700 and owned by the host
// IDs the pod's root maps to, so that its runtime processes (and no other
// local user) can reach the root filesystems below it; and its pause
// rootfs there.
func (m *Manager) makeUsernsDir(rec *Record) error {
	u := rec.Config.Namespaces.UserNS
	if len(u.UIDs) == 0 || len(u.GIDs) == 0 {
		return invalidf("user namespace without ID mappings")
	}
	if err := fsutil.TraversableDir(m.opts.UsernsRoot); err != nil {
		return fmt.Errorf("userns root: %w", err)
	}
	if err := fsutil.OwnedDir(rec.UsernsDir, 0o700, int(u.UIDs[0].Host), int(u.GIDs[0].Host)); err != nil {
		return fmt.Errorf("pod userns dir: %w", err)
	}
	if err := preparePauseRootfs(filepath.Join(rec.UsernsDir, usernsPauseDir)); err != nil {
		return fmt.Errorf("prepare pause rootfs: %w", err)
	}
	return nil
}

// removeUsernsDir removes the pod's userns dir once its containers are
// gone. Only its pause rootfs (mount points, never mounted on the host) is
// removed recursively: a container rootfs still mounted below it (an
// unmount that failed) stops the removal instead of being deleted through.
func (m *Manager) removeUsernsDir(rec *Record) error {
	if rec.UsernsDir == "" || filepath.Dir(rec.UsernsDir) != filepath.Clean(m.opts.UsernsRoot) {
		return nil // none, or not one berth made: never touched
	}
	if err := os.RemoveAll(filepath.Join(rec.UsernsDir, usernsPauseDir)); err != nil {
		return fmt.Errorf("remove pod's pause rootfs: %w", err)
	}
	if err := os.Remove(rec.UsernsDir); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove pod's userns dir: %w", err)
	}
	return nil
}
