package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/spec"
)

// UpdateResources applies pod-level resources to the pod's cgroup parent
// (the cgroup kubelet made for the pod), with either cgroup driver, leaving
// out what the host cannot set. A pod without a cgroup parent of its own
// has no pod cgroup to change.
func (m *Manager) UpdateResources(id string, r spec.Resources) error {
	sb, err := m.Get(id)
	if err != nil {
		return err
	}
	res, err := m.opts.Host.LinuxResources(r, logrus.WithField("sandbox", sb.ID()))
	if err != nil {
		return err
	}
	parent := sb.Snapshot().Config.CgroupParent
	if parent == "" {
		return invalidf("pod %s has no cgroup parent of its own to update", id)
	}
	path, err := cgroups.ParentPath(cgroups.Driver(m.opts.CgroupDriver), parent)
	if err != nil {
		return invalidf("pod %s: cgroup parent: %v", id, err)
	}
	return updateCgroup(m.opts.Host.Cgroups, path, res)
}

// updateCgroup writes res to the cgroup at path (inside each hierarchy).
func updateCgroup(host *cgroups.Host, path string, res *rspec.LinuxResources) error {
	if host.Mode() == cgroups.Unified {
		dir := filepath.Join(host.Root(), path)
		// cgroup2 would write into a missing directory and fail on the
		// first file; say which cgroup is missing instead.
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("pod cgroup %s: %w", path, err)
		}
		cg, err := cgroup2.Load(path, cgroup2.WithMountpoint(host.Root()))
		if err != nil {
			return fmt.Errorf("pod cgroup %s: %w", path, err)
		}
		return cg.Update(cgroup2.ToResources(res))
	}
	cg, err := cgroup1.Load(cgroup1.StaticPath(path), cgroup1.WithHierarchy(v1Hierarchy(host)))
	if err != nil {
		return fmt.Errorf("pod cgroup %s: %w", path, err)
	}
	return cg.Update(res)
}

// v1Hierarchy gives containerd's cgroup1 package the host's v1 hierarchies
// that take pod limits. Devices stay out: a pod's device rules are its
// containers', set by the OCI runtime. So does hugetlb: cgroup1 cannot
// update it, and kubelet resizes a pod's CPU and memory only.
func v1Hierarchy(host *cgroups.Host) cgroup1.Hierarchy {
	return func() ([]cgroup1.Subsystem, error) {
		var subs []cgroup1.Subsystem
		for _, name := range []cgroup1.Name{cgroup1.Pids, cgroup1.Cpuset, cgroup1.Cpu, cgroup1.Memory, cgroup1.Blkio} {
			mp, ok := host.Mountpoint(string(name))
			if !ok {
				continue
			}
			root, err := subsystemRoot(mp, string(name))
			if err != nil {
				return nil, err
			}
			switch name {
			case cgroup1.Pids:
				subs = append(subs, cgroup1.NewPids(root))
			case cgroup1.Cpuset:
				subs = append(subs, cgroup1.NewCpuset(root))
			case cgroup1.Cpu:
				subs = append(subs, cgroup1.NewCpu(root))
			case cgroup1.Memory:
				subs = append(subs, cgroup1.NewMemory(root))
			case cgroup1.Blkio:
				subs = append(subs, cgroup1.NewBlkio(root))
			}
		}
		return subs, nil
	}
}

// subsystemRoot is the directory a cgroup1 subsystem is made with: it
// addresses its hierarchy as <root>/<name>. A co-mounted hierarchy
// ("cpu,cpuacct") is reached through the link named after each controller
// beside it, which systemd and cgroupfs-mount make.
func subsystemRoot(mountpoint, name string) (string, error) {
	root := filepath.Dir(mountpoint)
	if filepath.Base(mountpoint) == name {
		return root, nil
	}
	link, err := os.Stat(filepath.Join(root, name))
	if err == nil {
		var mount os.FileInfo
		if mount, err = os.Stat(mountpoint); err == nil && os.SameFile(link, mount) {
			return root, nil
		}
	}
	return "", fmt.Errorf("cgroup v1 %s hierarchy at %s: no %s beside it leads to it", name, mountpoint, filepath.Join(root, name))
}
