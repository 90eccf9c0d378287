package oci

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
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	crierrors "k8s.io/cri-api/pkg/errors"
)

// setMounts lays out the container's mounts: the runtime's defaults, the
// pod's /dev/shm and files, then the CRI mounts, which win over any default
// at the same path.
func setMounts(g *generate.Generator, in SpecInput, privileged bool) error {
	cri, err := criMounts(g, in.Config.GetMounts(), in.ImageMounts)
	if err != nil {
		return err
	}
	taken := map[string]bool{}
	for _, m := range cri {
		taken[filepath.Clean(m.Destination)] = true
	}
	pod := in.Pod
	ro := in.Config.GetLinux().GetSecurityContext().GetReadonlyRootfs()
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

// criMounts checks and translates the CRI mounts, parents before children,
// and sets the rootfs propagation their propagation needs. images holds the
// host path to bind for each image mount, by clean container path.
func criMounts(g *generate.Generator, in []*runtimeapi.Mount, images map[string]string) ([]rspec.Mount, error) {
	var out []rspec.Mount
	for _, m := range in {
		if err := checkMount(m); err != nil {
			return nil, err
		}
		dst := m.GetContainerPath()
		if isImageMount(m) {
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
		src, err := filepath.EvalSymlinks(m.GetHostPath())
		if err != nil {
			return nil, invalidf("mount host path %q: %v", m.GetHostPath(), err)
		}
		opts := []string{"rbind"}
		switch m.GetPropagation() {
		case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
			if err := ensurePropagation(src, true); err != nil {
				return nil, err
			}
			opts = append(opts, "rshared")
			g.SetLinuxRootPropagation("rshared")
		case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
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
		if m.GetRecursiveReadOnly() {
			opts = append(opts, "rro")
		} else if m.GetReadonly() {
			opts = append(opts, "ro")
		}
		mnt := rspec.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
		// kubelet sends the pod's mappings for volumes of a user-namespaced
		// pod: an idmapped mount shows their files with the right owners.
		for _, id := range m.GetUidMappings() {
			mnt.UIDMappings = append(mnt.UIDMappings, rspec.LinuxIDMapping{ContainerID: id.GetContainerId(), HostID: id.GetHostId(), Size: id.GetLength()})
		}
		for _, id := range m.GetGidMappings() {
			mnt.GIDMappings = append(mnt.GIDMappings, rspec.LinuxIDMapping{ContainerID: id.GetContainerId(), HostID: id.GetHostId(), Size: id.GetLength()})
		}
		out = append(out, mnt)
	}
	return out, nil
}

// isImageMount says whether a CRI mount is an image volume.
func isImageMount(m *runtimeapi.Mount) bool { return m.GetImage().GetImage() != "" }

// imageVolumeErr marks an image volume's failure with the prefix kubelet
// looks for in CreateContainer errors to count image volume mount failures.
func imageVolumeErr(err error) error {
	return fmt.Errorf("%w: %w", crierrors.ErrImageVolumeMountFailed, err)
}

// checkMount rejects a CRI mount berth cannot make sense of, before anything
// is created for it: every mount needs an absolute container path and
// either an absolute host path or an image, never both.
func checkMount(m *runtimeapi.Mount) error {
	dst, host := m.GetContainerPath(), m.GetHostPath()
	switch {
	case dst == "":
		return invalidf("a mount has an empty container path (host path %q, image %q)", host, m.GetImage().GetImage())
	case !filepath.IsAbs(dst):
		return invalidf("mount container path %q must be absolute", dst)
	}
	if m.GetRecursiveReadOnly() {
		if !m.GetReadonly() {
			return invalidf("mount %q: recursive read-only needs read-only too", dst)
		}
		if m.GetPropagation() != runtimeapi.MountPropagation_PROPAGATION_PRIVATE {
			return invalidf("mount %q: recursive read-only needs private propagation, got %s", dst, m.GetPropagation())
		}
	}
	if isImageMount(m) {
		ref, sub := m.GetImage().GetImage(), m.GetImageSubPath()
		switch {
		case host != "":
			return imageVolumeErr(invalidf("mount %q has both a host path (%q) and an image (%q); give one", dst, host, ref))
		case filepath.IsAbs(sub):
			return imageVolumeErr(invalidf("mount %q: image sub path %q must be relative to the image's root", dst, sub))
		case slices.Contains(strings.Split(sub, "/"), ".."):
			return imageVolumeErr(invalidf("mount %q: image sub path %q must not contain \"..\"", dst, sub))
		}
		return nil
	}
	switch {
	case m.GetImageSubPath() != "":
		return invalidf("mount %q: image sub path %q given without an image", dst, m.GetImageSubPath())
	case host == "":
		return invalidf("mount %q has neither a host path nor an image", dst)
	case !filepath.IsAbs(host):
		return invalidf("mount %q: host path %q must be absolute", dst, host)
	}
	return nil
}

// checkDevice rejects a CRI device without absolute host and container
// paths (a relative one would resolve against berth's own directory).
func checkDevice(d *runtimeapi.Device) error {
	host, dst := d.GetHostPath(), d.GetContainerPath()
	switch {
	case host == "":
		return invalidf("a device has an empty host path (container path %q)", dst)
	case !filepath.IsAbs(host):
		return invalidf("device host path %q must be absolute", host)
	case dst == "":
		return invalidf("device %q has an empty container path", host)
	case !filepath.IsAbs(dst):
		return invalidf("device %q: container path %q must be absolute", host, dst)
	}
	return nil
}

// checkMountsAndDevices checks every mount and device of a config.
func checkMountsAndDevices(cfg *runtimeapi.ContainerConfig) error {
	for _, m := range cfg.GetMounts() {
		if err := checkMount(m); err != nil {
			return err
		}
	}
	for _, d := range cfg.GetDevices() {
		if err := checkDevice(d); err != nil {
			return err
		}
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

// deviceAt describes the device node at hostPath as containerPath; ok is
// false when it is not a device.
func deviceAt(hostPath, containerPath, perms string) (rspec.LinuxDevice, bool) {
	var st unix.Stat_t
	if err := unix.Stat(hostPath, &st); err != nil {
		return rspec.LinuxDevice{}, false
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return rspec.LinuxDevice{}, false
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return rspec.LinuxDevice{
		Path: containerPath, Type: typ,
		Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, true
}

// setDevices adds the CRI devices (a directory adds every device in it)
// with their cgroup permissions.
func setDevices(g *generate.Generator, devices []*runtimeapi.Device) error {
	for _, d := range devices {
		if err := checkDevice(d); err != nil {
			return err
		}
		perms := d.GetPermissions()
		if perms == "" {
			perms = "rwm"
		}
		if strings.Trim(perms, "rwm") != "" {
			return invalidf("device %q: permissions %q must be made of r, w and m", d.GetHostPath(), perms)
		}
		host, err := filepath.EvalSymlinks(d.GetHostPath())
		if err != nil {
			return invalidf("device %q: %v", d.GetHostPath(), err)
		}
		found := 0
		add := func(hostPath, containerPath string) {
			if dev, ok := deviceAt(hostPath, containerPath, perms); ok {
				g.AddDevice(dev)
				g.AddLinuxResourcesDevice(true, dev.Type, &dev.Major, &dev.Minor, perms)
				found++
			}
		}
		if st, err := os.Stat(host); err == nil && st.IsDir() {
			filepath.WalkDir(host, func(p string, e os.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					rel, _ := filepath.Rel(host, p)
					add(p, filepath.Join(d.GetContainerPath(), rel))
				}
				return nil
			})
		} else {
			add(host, d.GetContainerPath())
		}
		if found == 0 {
			return invalidf("device %q is not a device", d.GetHostPath())
		}
	}
	return nil
}
