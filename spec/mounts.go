package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/sys/mountinfo"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// setMounts lays out the container's mounts: the runtime's defaults, the
// pod's /dev/shm and files, then the CRI mounts, which win over any default
// at the same path.
func setMounts(g *generate.Generator, in Input, privileged bool) error {
	cri, err := bindMounts(g, in.Container.Mounts, in.ImageMounts, in.RecursiveReadOnly)
	if err != nil {
		return err
	}
	taken := map[string]bool{}
	for _, m := range cri {
		taken[filepath.Clean(m.Destination)] = true
	}
	pod := in.Pod
	ro := in.Container.Security.ReadonlyRootfs
	var mounts []rspec.Mount
	for _, m := range g.Config.Mounts {
		switch m.Destination {
		case "/dev/shm", "/dev/mqueue":
			continue // set below, from the pod
		case "/sys/fs/cgroup":
			continue // set below
		case "/sys":
			if privileged {
				m.Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
			}
		}
		mounts = append(mounts, m)
	}
	if pod.UserNS {
		// sysfs and cgroupfs cannot be mounted from a user namespace that
		// does not own the netns (berth pins it before the pod exists):
		// bind the host's, read-only.
		mounts = slices.DeleteFunc(mounts, func(m rspec.Mount) bool { return m.Destination == "/sys" })
		mounts = append(mounts, bindMount("/sys", "/sys", true, "nosuid", "noexec", "nodev"))
	} else {
		cgroupOpts := []string{"nosuid", "noexec", "nodev", "relatime", "ro"}
		if privileged {
			cgroupOpts = cgroupOpts[:4]
		}
		mounts = append(mounts, rspec.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: cgroupOpts})
	}
	shm := pod.ShmPath
	if shm == "" {
		shm = "/dev/shm"
	}
	mounts = append(mounts, bindMount(shm, "/dev/shm", false, "nosuid", "noexec", "nodev"))
	if _, err := os.Stat("/dev/mqueue"); err == nil && pod.HostIPC {
		mounts = append(mounts, bindMount("/dev/mqueue", "/dev/mqueue", false, "nosuid", "noexec", "nodev"))
	} else {
		// In the host's IPC namespace this shows the host's queues too.
		mounts = append(mounts, rspec.Mount{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}})
	}
	for dst, src := range map[string]string{"/etc/hostname": pod.HostnamePath, "/etc/hosts": pod.HostsPath, "/etc/resolv.conf": pod.ResolvConfPath} {
		if src != "" {
			mounts = append(mounts, bindMount(src, dst, ro))
		}
	}
	mounts = slices.DeleteFunc(mounts, func(m rspec.Mount) bool { return taken[filepath.Clean(m.Destination)] })
	slices.SortStableFunc(mounts, func(a, b rspec.Mount) int { return strings.Compare(a.Destination, b.Destination) })
	// Parents before children across all mounts: a CRI mount at /etc must
	// come before the pod's /etc/hosts, not hide it.
	all := append(mounts, cri...)
	slices.SortStableFunc(all, func(a, b rspec.Mount) int { return depth(a.Destination) - depth(b.Destination) })
	g.Config.Mounts = all
	return nil
}

// depth is how many path components a mount destination has.
func depth(dst string) int {
	return strings.Count(filepath.Clean(dst), "/")
}

func bindMount(src, dst string, ro bool, extra ...string) rspec.Mount {
	opts := append([]string{"rbind", "rprivate"}, extra...)
	if ro {
		opts = append(opts, "ro")
	}
	return rspec.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}

// bindMounts checks and translates the container's mounts, parents before
// children, and sets the rootfs propagation their propagation needs. images
// holds the host path to bind for each image mount, by clean container
// path; rro says the runtime can make recursive read-only mounts.
func bindMounts(g *generate.Generator, in []Mount, images map[string]string, rro bool) ([]rspec.Mount, error) {
	var out []rspec.Mount
	for _, m := range in {
		if err := checkMount(&m); err != nil {
			return nil, err
		}
		dst := m.ContainerPath
		if m.IsImage() {
			src, ok := images[filepath.Clean(dst)]
			if !ok {
				return nil, fmt.Errorf("image volume at %s is not mounted", dst)
			}
			// Read-only whatever the request says: an image volume is
			// read-only by definition. No propagation: the image is
			// immutable and holds no mounts. No ID mappings either:
			// overlayfs refuses idmapped mounts (EINVAL), so in a
			// user-namespaced pod the image's files show as the overflow
			// IDs and stay readable as their modes allow.
			out = append(out, bindMount(src, dst, true, "nodev"))
			continue
		}
		src, err := filepath.EvalSymlinks(m.HostPath)
		if err != nil {
			return nil, invalidf("mount host path %q: %v", m.HostPath, err)
		}
		opts := []string{"rbind"}
		switch m.Propagation {
		case PropagationBidirectional:
			if err := ensurePropagation(src, true); err != nil {
				return nil, err
			}
			opts = append(opts, "rshared")
			g.SetLinuxRootPropagation("rshared")
		case PropagationHostToContainer:
			if err := ensurePropagation(src, false); err != nil {
				return nil, err
			}
			opts = append(opts, "rslave")
			if g.Config.Linux.RootfsPropagation != "rshared" {
				g.SetLinuxRootPropagation("rslave")
			}
		default:
			opts = append(opts, "rprivate")
		}
		if m.RecursiveReadOnly {
			if !rro {
				return nil, invalidf("mount %q: recursive read-only asked for, but the runtime handler cannot make recursive read-only mounts", dst)
			}
			opts = append(opts, "rro")
		} else if m.Readonly {
			opts = append(opts, "ro")
		}
		mnt := rspec.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
		// kubelet sends the pod's mappings for volumes of a user-namespaced
		// pod: an idmapped mount shows their files with the right owners.
		mnt.UIDMappings, mnt.GIDMappings = idMappings(m.UIDMappings), idMappings(m.GIDMappings)
		out = append(out, mnt)
	}
	return out, nil
}

func idMappings(in []IDMapping) []rspec.LinuxIDMapping {
	var out []rspec.LinuxIDMapping
	for _, id := range in {
		out = append(out, rspec.LinuxIDMapping{ContainerID: id.ContainerID, HostID: id.HostID, Size: id.Size})
	}
	return out
}

// ImageVolumeErr marks an image volume's failure with the prefix kubelet
// looks for in CreateContainer errors to count image volume mount failures.
func ImageVolumeErr(err error) error {
	return fmt.Errorf("%w: %w", ErrImageVolumeMountFailed, err)
}

// checkMount rejects a mount berth cannot make sense of, before anything
// is created for it: every mount needs an absolute container path and
// either an absolute host path or an image, never both.
func checkMount(m *Mount) error {
	dst, host := m.ContainerPath, m.HostPath
	switch {
	case dst == "":
		return invalidf("a mount has an empty container path (host path %q, image %q)", host, m.Image)
	case !filepath.IsAbs(dst):
		return invalidf("mount container path %q must be absolute", dst)
	}
	if m.RecursiveReadOnly {
		if !m.Readonly {
			return invalidf("mount %q: recursive read-only needs read-only too", dst)
		}
		if m.Propagation != PropagationPrivate {
			return invalidf("mount %q: recursive read-only needs private propagation, got %s", dst, m.Propagation)
		}
	}
	if m.IsImage() {
		ref, sub := m.Image, m.ImageSubPath
		switch {
		case host != "":
			return ImageVolumeErr(invalidf("mount %q has both a host path (%q) and an image (%q); give one", dst, host, ref))
		case filepath.IsAbs(sub):
			return ImageVolumeErr(invalidf("mount %q: image sub path %q must be relative to the image's root", dst, sub))
		case slices.Contains(strings.Split(sub, "/"), ".."):
			return ImageVolumeErr(invalidf("mount %q: image sub path %q must not contain \"..\"", dst, sub))
		}
		return nil
	}
	switch {
	case m.ImageSubPath != "":
		return invalidf("mount %q: image sub path %q given without an image", dst, m.ImageSubPath)
	case host == "":
		return invalidf("mount %q has neither a host path nor an image", dst)
	case !filepath.IsAbs(host):
		return invalidf("mount %q: host path %q must be absolute", dst, host)
	}
	return nil
}

// ensurePropagation makes the host mount holding path shared (needed for
// bidirectional propagation), or at least a slave (for host-to-container),
// so that mounts made later on the host reach the container.
func ensurePropagation(path string, needShared bool) error {
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(path))
	if err != nil || len(mounts) == 0 {
		return fmt.Errorf("find the mount of %s: %v", path, err)
	}
	m := mounts[0]
	for _, c := range mounts[1:] {
		if len(c.Mountpoint) > len(m.Mountpoint) {
			m = c
		}
	}
	shared := strings.Contains(m.Optional, "shared:")
	if shared || (!needShared && strings.Contains(m.Optional, "master:")) {
		return nil
	}
	if err := unix.Mount("", m.Mountpoint, "", unix.MS_SHARED, ""); err != nil {
		return fmt.Errorf("make mount %s shared for mount propagation: %w", m.Mountpoint, err)
	}
	logrus.WithField("mount", m.Mountpoint).Info("made host mount shared for a container's mount propagation")
	return nil
}

// String names a propagation as messages show it.
func (p Propagation) String() string {
	switch p {
	case PropagationHostToContainer:
		return "host-to-container"
	case PropagationBidirectional:
		return "bidirectional"
	}
	return "private"
}
