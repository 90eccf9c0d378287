package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/undo"
	"github.com/berth-dev/berth/spec"
)

// ImageVolume is an image mounted into a container (a Kubernetes image
// volume): its layers as a read-only overlay in the container's bundle,
// bound (whole, or one path of it) at the container path.
type ImageVolume struct {
	ContainerPath string `json:"container_path"`
	ImageID       string `json:"image_id"`
	Mountpoint    string `json:"mountpoint"` // the overlay, in the bundle
	Source        string `json:"source"`     // what is bound: the mountpoint or a path in it
}

// imageVolumesDir holds a container's image volume mounts. Like the rootfs
// mount it lives in the bundle (runroot): mounts do not outlive a reboot,
// and their mount points need not either.
func imageVolumesDir(bundle string) string { return filepath.Join(bundle, "image-volumes") }

// imageMount is an image mount of a config with its image found.
type imageMount struct {
	mount spec.Mount
	image *image.Image
}

// findImageMounts finds the image of every image mount. kubelet pulls an
// image volume's image before it creates the container; one not in the
// store is NotFound.
func (m *Manager) findImageMounts(mounts []spec.Mount) ([]imageMount, error) {
	var out []imageMount
	for _, mnt := range mounts {
		if !mnt.IsImage() {
			continue
		}
		img, err := m.opts.Images.Get(mnt.Image)
		if err != nil {
			return nil, spec.ImageVolumeErr(fmt.Errorf("image volume at %q: %w (pull it first)", mnt.ContainerPath, err))
		}
		out = append(out, imageMount{mount: mnt, image: img})
	}
	return out, nil
}

// mountImageVolumes mounts each image read-only in the bundle, pushing the
// unmount of each on u so a failed create leaves nothing mounted.
func (m *Manager) mountImageVolumes(bundle string, mounts []imageMount, u *undo.Stack) ([]ImageVolume, error) {
	var vols []ImageVolume
	for i, im := range mounts {
		dst := im.mount.ContainerPath
		target := filepath.Join(imageVolumesDir(bundle), strconv.Itoa(i))
		if err := m.opts.Images.MountReadOnly(im.image, target); err != nil {
			return nil, spec.ImageVolumeErr(fmt.Errorf("image volume at %q: %w", dst, err))
		}
		u.Push("unmount image volume "+dst, func() error { return image.UnmountReadOnly(target) })
		src, err := imageSubPath(target, im.mount.ImageSubPath)
		if err != nil {
			return nil, spec.ImageVolumeErr(fmt.Errorf("image volume at %q, image %s: %w", dst, im.image.ID, err))
		}
		vols = append(vols, ImageVolume{ContainerPath: dst, ImageID: im.image.ID, Mountpoint: target, Source: src})
	}
	return vols, nil
}

// imageSubPath is the path sub names in the image mounted at root.
// spec.Check has refused absolute sub paths and "..", and symlinks resolve inside the
// image (securejoin), so it cannot leave the image. The mount is read-only
// over immutable layers: what it names cannot change before runc binds it.
func imageSubPath(root, sub string) (string, error) {
	if sub == "" {
		return root, nil
	}
	p, err := securejoin.SecureJoin(root, sub)
	if err != nil {
		return "", fmt.Errorf("sub path %q: %w", sub, err)
	}
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", invalidf("sub path %q does not exist in the image", sub)
		}
		return "", fmt.Errorf("sub path %q: %w", sub, err)
	}
	return p, nil
}

// unmountImageVolumes unmounts every image volume of a bundle. It reads the
// directory, not the record, so the volumes of a create that died before
// saving them are unmounted too.
func unmountImageVolumes(bundle string) error {
	dir := imageVolumesDir(bundle)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, image.UnmountReadOnly(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}

// imageMountSources are the host paths the spec binds for the image
// volumes, by clean container path.
func imageMountSources(vols []ImageVolume) map[string]string {
	out := make(map[string]string, len(vols))
	for _, v := range vols {
		out[filepath.Clean(v.ContainerPath)] = v.Source
	}
	return out
}
