// Package cgroups knows what the host's cgroup hierarchy offers (its mode,
// the controllers that can take limits, swap accounting) and where a cgroup
// named by an OCI cgroupsPath lives in it.
//
// The facts are probed once at start-up and handed to whoever needs them: a
// controller the host lacks is left out of a spec with a debug line, never
// turned into a pod failure (kubelet sends a hugepage limit for every page
// size the kernel knows, whether or not a hugetlb hierarchy is mounted).
package cgroups

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// Mode is how the host's cgroups are laid out.
type Mode int

const (
	// Legacy is cgroup v1, or hybrid: a v2 hierarchy may be mounted beside
	// the v1 ones (at /sys/fs/cgroup/unified), but OCI runtimes set limits
	// through the v1 hierarchies only, so only those count.
	Legacy Mode = iota + 1
	// Unified is cgroup v2 alone, mounted at the cgroup root.
	Unified
)

func (m Mode) String() string {
	switch m {
	case Legacy:
		return "v1"
	case Unified:
		return "v2"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Default places of the host's cgroup facts.
const (
	DefaultRoot      = "/sys/fs/cgroup"
	DefaultMountinfo = "/proc/self/mountinfo"
)

// v1Controllers are the names a v1 mount lists among its super options when
// it carries that controller; the other options ("rw", "name=systemd",
// "clone_children", ...) are not controllers.
var v1Controllers = []string{
	"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb",
	"memory", "misc", "net_cls", "net_prio", "perf_event", "pids", "rdma",
}

// Host is what the host's cgroup hierarchy offers. It is read-only once
// made and safe to share.
type Host struct {
	mode Mode
	root string // the cgroup root it was probed at
	// mounts maps each usable controller to the mount point of its
	// hierarchy: a v1 mount, or the unified root for every v2 controller.
	mounts map[string]string
	// hierarchies are the mount points of every hierarchy, one each:
	// those that carry no controller limits count too (hybrid's unified
	// one, name=systemd), since a runtime makes its cgroup in them all.
	hierarchies []string
	// v2 is the mount point of the cgroup2 hierarchy (the root of a
	// unified host, hybrid's unified one), if there is one.
	v2   string
	swap bool
}

// Probe reads the facts of this host from /proc/self/mountinfo and
// /sys/fs/cgroup.
func Probe() (*Host, error) {
	f, err := os.Open(DefaultMountinfo)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ProbeFrom(f, DefaultRoot)
}

// ProbeFrom reads the facts from a mountinfo text and the cgroup root
// directory: the host is unified when root is a cgroup2 mount, and its
// controllers are then those of root/cgroup.controllers; otherwise they are
// the controllers that have a v1 hierarchy mounted anywhere.
func ProbeFrom(mounts io.Reader, root string) (*Host, error) {
	infos, err := mountinfo.GetMountsFromReader(mounts, mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	root = filepath.Clean(root)
	for _, m := range infos {
		if m.FSType == "cgroup2" && filepath.Clean(m.Mountpoint) == root {
			return probeUnified(root)
		}
	}
	h := &Host{mode: Legacy, root: root, mounts: map[string]string{}}
	seen := map[string]bool{}
	for _, m := range infos {
		// A hierarchy is known by its type and super options; a second
		// mount of it is a bind mount of the same tree.
		if key := m.FSType + " " + m.VFSOptions; !seen[key] {
			seen[key] = true
			h.hierarchies = append(h.hierarchies, m.Mountpoint)
			if m.FSType == "cgroup2" {
				h.v2 = m.Mountpoint
			}
		}
		if m.FSType != "cgroup" {
			continue
		}
		for opt := range strings.SplitSeq(m.VFSOptions, ",") {
			if !slices.Contains(v1Controllers, opt) {
				continue
			}
			// A controller is mounted once per host; a second entry is a
			// bind mount of the same hierarchy (or of a part of it), so the
			// first one is the hierarchy's root.
			if _, seen := h.mounts[opt]; !seen {
				h.mounts[opt] = m.Mountpoint
			}
		}
	}
	if len(h.mounts) == 0 {
		return nil, fmt.Errorf("no cgroup hierarchy: %s is not a cgroup2 mount and no cgroup v1 controller is mounted", root)
	}
	h.swap = v1SwapAccounting(h.mounts)
	return h, nil
}

func probeUnified(root string) (*Host, error) {
	data, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("read cgroup v2 controllers: %w", err)
	}
	return newUnified(root, strings.Fields(string(data))), nil
}

func newUnified(root string, controllers []string) *Host {
	h := &Host{mode: Unified, root: root, mounts: map[string]string{}, hierarchies: []string{root}, v2: root}
	for _, c := range controllers {
		h.mounts[c] = root
	}
	// v2 accounts swap wherever the memory controller is (memory.swap.max).
	_, h.swap = h.mounts["memory"]
	return h
}

// v1SwapAccounting says whether memory+swap can be limited: the kernel
// offers memory.memsw.* only when booted with swap accounting.
func v1SwapAccounting(mounts map[string]string) bool {
	mp, ok := mounts["memory"]
	if !ok {
		return false
	}
	_, err := os.Stat(filepath.Join(mp, "memory.memsw.limit_in_bytes"))
	return err == nil
}

// NewHost describes a host whose hierarchies live under root without
// probing its mounts: on v1 each controller at root/<controller>, on v2
// every controller at root itself. Swap accounting is read from the tree as
// Probe reads it. It serves tests and tools that build a cgroup tree of
// their own.
func NewHost(mode Mode, root string, controllers ...string) (*Host, error) {
	switch mode {
	case Unified:
		return newUnified(root, controllers), nil
	case Legacy:
		h := &Host{mode: Legacy, root: root, mounts: map[string]string{}}
		for _, c := range controllers {
			h.mounts[c] = filepath.Join(root, c)
			h.hierarchies = append(h.hierarchies, h.mounts[c])
		}
		h.swap = v1SwapAccounting(h.mounts)
		return h, nil
	}
	return nil, errors.New("cgroups: unknown mode")
}

// Mode is the host's cgroup mode.
func (h *Host) Mode() Mode { return h.mode }

// Root is the cgroup root the host was probed at: on v2 the mount point
// of the unified hierarchy; on v1 the directory that usually holds the
// controllers' mounts (Mountpoint says where each one really is).
func (h *Host) Root() string { return h.root }

// Has says whether limits of the controller can be set on this host.
func (h *Host) Has(controller string) bool {
	_, ok := h.mounts[controller]
	return ok
}

// Controllers lists the usable controllers, sorted.
func (h *Host) Controllers() []string {
	out := make([]string, 0, len(h.mounts))
	for c := range h.mounts {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// SwapAccounting says whether a memory+swap limit can be set.
func (h *Host) SwapAccounting() bool { return h.swap }

// Mountpoint is where the hierarchy of the controller is mounted: its v1
// mount, or the unified root. ok is false when the host lacks it.
func (h *Host) Mountpoint(controller string) (dir string, ok bool) {
	dir, ok = h.mounts[controller]
	return dir, ok
}

// Dir is the directory of the cgroup at path (as Path or ParentPath give
// it) in the hierarchy of the controller; ok is false when the host lacks
// the controller.
func (h *Host) Dir(controller, path string) (dir string, ok bool) {
	mp, ok := h.mounts[controller]
	if !ok {
		return "", false
	}
	return filepath.Join(mp, path), true
}
