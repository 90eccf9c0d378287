package fsutil

import (
	"fmt"
	"os"
	"syscall"

	"github.com/sirupsen/logrus"
)

// PrivateDir makes dir (and any missing parent) a directory only berth's
// user can enter: mode 0700, owned by berth. A directory that already
// exists is made so too, whoever made it and with whatever mode: berth's
// state dirs hold container root filesystems with setuid binaries and
// device nodes, which a local user must never reach (CVE-2021-41103).
// A symlink or a file in its place is refused, not followed.
func PrivateDir(dir string) error {
	return OwnedDir(dir, 0o700, os.Geteuid(), os.Getegid())
}

// TraversableDir is PrivateDir with mode 0711: others may pass through to
// a name they know below it, but not list it. User-namespaced containers
// reach their root filesystems through such a dir.
func TraversableDir(dir string) error {
	return OwnedDir(dir, 0o711, os.Geteuid(), os.Getegid())
}

// OwnedDir makes dir a directory of the given mode owned by uid:gid, like
// PrivateDir. A user-namespaced pod's own dir belongs to its mapped root.
func OwnedDir(dir string, mode os.FileMode, uid, gid int) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return err
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory (%s); refusing to use it", dir, st.Mode().Type())
	}
	if s, ok := st.Sys().(*syscall.Stat_t); !ok || int(s.Uid) != uid || int(s.Gid) != gid {
		if err := os.Lchown(dir, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", dir, err)
		}
	}
	if st.Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky) != mode {
		if err := os.Chmod(dir, mode); err != nil {
			return fmt.Errorf("chmod %s: %w", dir, err)
		}
		logrus.WithFields(logrus.Fields{"dir": dir, "was": st.Mode().Perm().String(), "now": mode.String()}).
			Info("state dir permissions set")
	}
	return nil
}
