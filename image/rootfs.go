package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// linkLen is how many hex digits of a layer's diff ID name its short link.
// The overlay mount options must fit in one page; a short link per layer
// keeps an image of 100 layers well inside it.
const linkLen = 16

func (s *Store) linksDir() string { return filepath.Join(s.dir, "l") }

// emptyDir is the i-th empty directory of the store, a filler lower dir of
// a read-only overlay (see MountReadOnly). Nothing ever writes to them.
func (s *Store) emptyDir(i int) string { return filepath.Join(s.dir, "empty", strconv.Itoa(i)) }

// lowerDirs are the overlay lower dirs of img's layers, top layer first as
// overlay wants them (the image lists the lowest first), as short links.
func (s *Store) lowerDirs(img *Image) ([]string, error) {
	if err := os.MkdirAll(s.linksDir(), 0o700); err != nil {
		return nil, err
	}
	lowers := make([]string, 0, len(img.Layers))
	for i := len(img.Layers) - 1; i >= 0; i-- {
		hex := strings.TrimPrefix(img.Layers[i], "sha256:")
		link := filepath.Join(s.linksDir(), hex[:min(linkLen, len(hex))])
		if err := os.Symlink(filepath.Join("..", "layers", hex), link); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("layer link: %w", err)
		}
		lowers = append(lowers, link)
	}
	return lowers, nil
}

// mountOverlay mounts an overlay at target, refusing options that do not fit
// in the page the kernel reads them from.
func mountOverlay(img *Image, target string, flags uintptr, opts string) error {
	if len(opts) >= os.Getpagesize() {
		return fmt.Errorf("image has too many layers (%d) for one overlay mount", len(img.Layers))
	}
	return unix.Mount("overlay", target, "overlay", flags, opts)
}

// MountRootfs mounts a container's root filesystem at target: an overlay of
// the image's layers under a writable upper dir, which (with its work dir)
// lives in dir.
func (s *Store) MountRootfs(img *Image, dir, target string) error {
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{upper, work, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	lowers, err := s.lowerDirs(img)
	if err != nil {
		return err
	}
	if len(lowers) == 0 {
		// An image with no layers still needs a lower dir for overlay.
		empty := filepath.Join(dir, "empty")
		if err := os.MkdirAll(empty, 0o755); err != nil {
			return err
		}
		lowers = append(lowers, empty)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lowers, ":"), upper, work)
	if s.volatile() {
		opts += ",volatile"
	}
	if err := mountOverlay(img, target, 0, opts); err != nil {
		return fmt.Errorf("mount container rootfs: %w", err)
	}
	return nil
}

// probeVolatile says whether the kernel's overlay takes the "volatile"
// option (Linux 5.10), trying it once on an empty overlay in the store.
//
// A volatile overlay skips every sync of its upper dir, unmounting
// included: a container's writable layer never outlives its container,
// and no container outlives a host crash (berth marks them all exited at
// the next boot, and kubelet makes new ones), so those syncs buy nothing
// but the tens of milliseconds an unmount spends flushing the layer (on
// every RemoveContainer). A crash leaves a volatile upper dir unmountable
// again, which berth never does: it only removes it.
func (s *Store) probeVolatile() bool {
	dir, err := os.MkdirTemp(s.dir, ".probe-volatile-")
	if err != nil {
		logrus.WithError(err).Warn("overlay volatile not probed; container writable layers are synced on unmount")
		return false
	}
	defer os.RemoveAll(dir)
	d := func(name string) string { return filepath.Join(dir, name) }
	for _, name := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(d(name), 0o700); err != nil {
			return false
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,volatile", d("lower"), d("upper"), d("work"))
	if err := unix.Mount("overlay", d("merged"), "overlay", 0, opts); err != nil {
		logrus.WithError(err).Info("overlay has no volatile option (Linux < 5.10); container writable layers are synced on unmount")
		return false
	}
	unmount(d("merged"))
	return true
}

// MountReadOnly mounts img's layers at target (created if missing) as a
// read-only overlay: lower dirs only, no upper dir, so nothing written
// through the mount can reach the shared layers. It serves image volumes.
// Device nodes in the image do not work there (nodev).
func (s *Store) MountReadOnly(img *Image, target string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	lowers, err := s.lowerDirs(img)
	if err != nil {
		return err
	}
	// Without an upper dir overlay wants at least two lower dirs (EINVAL
	// otherwise): an image of one layer (or none) gets empty dirs below it,
	// which change nothing of what the mount shows. They must be distinct:
	// overlay refuses a layer given twice.
	for i := 0; len(lowers) < 2; i++ {
		if err := os.MkdirAll(s.emptyDir(i), 0o755); err != nil {
			return err
		}
		lowers = append(lowers, s.emptyDir(i))
	}
	opts := "lowerdir=" + strings.Join(lowers, ":")
	if err := mountOverlay(img, target, unix.MS_RDONLY|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount image %s read-only: %w", img.ID, err)
	}
	return nil
}

// UnmountRootfs unmounts a container's root filesystem; one not mounted is
// fine.
func UnmountRootfs(target string) error {
	if err := unmount(target); err != nil {
		return fmt.Errorf("unmount container rootfs %s: %w", target, err)
	}
	return nil
}

// UnmountReadOnly unmounts what MountReadOnly mounted; one not mounted is
// fine.
func UnmountReadOnly(target string) error {
	if err := unmount(target); err != nil {
		return fmt.Errorf("unmount image at %s: %w", target, err)
	}
	return nil
}

// unmount detaches the mount at target. EINVAL (not a mount point) and
// ENOENT (no such path) mean there is nothing to undo.
func unmount(target string) error {
	err := unix.Unmount(target, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}
