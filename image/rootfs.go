package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// linkLen is how many hex digits of a layer's diff ID name its short link.
// The overlay mount options must fit in one page; a short link per layer
// keeps an image of 100 layers well inside it.
const linkLen = 16

func (s *Store) linksDir() string { return filepath.Join(s.dir, "l") }

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
	if err := os.MkdirAll(s.linksDir(), 0o700); err != nil {
		return err
	}
	lowers := make([]string, 0, len(img.Layers))
	// overlay wants the top layer first; the image lists the lowest first.
	for i := len(img.Layers) - 1; i >= 0; i-- {
		hex := strings.TrimPrefix(img.Layers[i], "sha256:")
		link := filepath.Join(s.linksDir(), hex[:min(linkLen, len(hex))])
		if err := os.Symlink(filepath.Join("..", "layers", hex), link); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("layer link: %w", err)
		}
		lowers = append(lowers, link)
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
	if len(opts) >= os.Getpagesize() {
		return fmt.Errorf("image has too many layers (%d) for one overlay mount", len(img.Layers))
	}
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount container rootfs: %w", err)
	}
	return nil
}

// UnmountRootfs unmounts a container's root filesystem; one not mounted is
// fine.
func UnmountRootfs(target string) error {
	err := unix.Unmount(target, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount container rootfs %s: %w", target, err)
	}
	return nil
}
