package spec

import (
	"os"
	"path/filepath"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
	"golang.org/x/sys/unix"
)

// Check refuses the mounts and devices of a config that berth cannot make
// sense of, so that a create refuses them before it makes anything.
func Check(c *Container) error {
	for i := range c.Mounts {
		if err := checkMount(&c.Mounts[i]); err != nil {
			return err
		}
	}
	for i := range c.Devices {
		if err := checkDevice(&c.Devices[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkDevice rejects a device without absolute host and container paths
// (a relative one would resolve against berth's own directory).
func checkDevice(d *Device) error {
	host, dst := d.HostPath, d.ContainerPath
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

// setDevices adds the devices (a directory adds every device in it) with
// their cgroup permissions.
func setDevices(g *generate.Generator, devices []Device) error {
	for _, d := range devices {
		if err := checkDevice(&d); err != nil {
			return err
		}
		perms := d.Permissions
		if perms == "" {
			perms = "rwm"
		}
		if strings.Trim(perms, "rwm") != "" {
			return invalidf("device %q: permissions %q must be made of r, w and m", d.HostPath, perms)
		}
		host, err := filepath.EvalSymlinks(d.HostPath)
		if err != nil {
			return invalidf("device %q: %v", d.HostPath, err)
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
					add(p, filepath.Join(d.ContainerPath, rel))
				}
				return nil
			})
		} else {
			add(host, d.ContainerPath)
		}
		if found == 0 {
			return invalidf("device %q is not a device", d.HostPath)
		}
	}
	return nil
}
