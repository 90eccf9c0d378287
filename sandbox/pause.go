package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"

	"github.com/berth-dev/berth/internal/podinit"
)

// The pause process: a static program (Debian's catatonit -P by default)
// bind-mounted into an empty read-only rootfs shared by every pod, so a pod
// starts without pulling an image. It runs as nobody with no capabilities.
const (
	pauseUID      = 65535
	pauseInRootfs = podinit.Program
	pauseOOMScore = -998 // keep the pod's namespaces alive under memory pressure
	pauseSpecFile = "config.json"
)

// preparePauseRootfs creates the shared rootfs: mount points only.
func preparePauseRootfs(dir string) error {
	for _, d := range []string{"dev", "proc", "sys"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, pauseInRootfs), os.O_CREATE|os.O_RDONLY, 0o755)
	if err != nil {
		return err
	}
	return f.Close()
}

// pauseSpec is the OCI spec of a pod's pause process.
// oomScoreAdj is pauseOOMScore clamped to what the runtime may set.
func pauseSpec(rec *Record, rootfs string, command []string, hostname string, oomScoreAdj int) (*rspec.Spec, error) {
	cfg := &rec.Config
	g, err := generate.New("linux")
	if err != nil {
		return nil, err
	}
	g.HostSpecific = false
	g.SetRootPath(rootfs)
	g.SetRootReadonly(true)
	g.SetProcessArgs(append([]string{pauseInRootfs}, command[1:]...))
	g.ClearProcessEnv()
	g.SetProcessCwd("/")
	g.SetProcessUID(pauseUID)
	g.SetProcessGID(pauseUID)
	g.ClearProcessCapabilities()
	g.Config.Linux.Seccomp = nil // runtime-tools' own profile; pause needs none
	g.SetProcessNoNewPrivileges(true)
	g.SetProcessOOMScoreAdj(oomScoreAdj)
	g.SetLinuxCgroupsPath(rec.CgroupsPath)
	for k, v := range cfg.Sysctls {
		g.AddLinuxSysctl(strings.ReplaceAll(k, "/", "."), v)
	}
	g.AddAnnotation("io.kubernetes.cri.sandbox-id", rec.ID)
	g.AddAnnotation("io.kubernetes.cri.sandbox-name", cfg.Name)
	g.AddAnnotation("io.kubernetes.cri.sandbox-namespace", cfg.Namespace)

	g.ClearMounts()
	g.AddMount(rspec.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}})
	g.AddMount(rspec.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}})
	if cfg.Namespaces.UserNS == nil {
		// In a user namespace sysfs cannot be mounted over a netns the pod's
		// user namespace does not own; pause needs no /sys anyway.
		g.AddMount(rspec.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}})
	}
	g.AddMount(rspec.Mount{Destination: pauseInRootfs, Type: "bind", Source: command[0], Options: []string{"bind", "ro", "nosuid", "nodev"}})

	g.ClearLinuxNamespaces()
	add := func(ns, path string) {
		if err == nil {
			err = g.AddOrReplaceLinuxNamespace(ns, path)
		}
	}
	add(string(rspec.MountNamespace), "")
	if !cfg.Namespaces.HostNetwork {
		add(string(rspec.NetworkNamespace), rec.NetNS)
		add(string(rspec.UTSNamespace), "")
		g.SetHostname(hostname)
	} else {
		g.RemoveHostname()
	}
	if !cfg.Namespaces.HostIPC {
		add(string(rspec.IPCNamespace), "")
	}
	if !cfg.Namespaces.HostPID {
		add(string(rspec.PIDNamespace), "")
	}
	if u := cfg.Namespaces.UserNS; u != nil {
		add(string(rspec.UserNamespace), "")
		for _, m := range u.UIDs {
			g.AddLinuxUIDMapping(m.Host, m.Container, m.Size)
		}
		for _, m := range u.GIDs {
			g.AddLinuxGIDMapping(m.Host, m.Container, m.Size)
		}
	}
	if err != nil {
		return nil, err
	}
	return g.Config, nil
}

func writePauseSpec(rec *Record, spec *rspec.Spec) error {
	g := generate.NewFromSpec(spec)
	if err := g.SaveToFile(filepath.Join(rec.Dir, pauseSpecFile), generate.ExportOptions{}); err != nil {
		return fmt.Errorf("write pause spec: %w", err)
	}
	return nil
}
