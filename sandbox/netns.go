package sandbox

import (
	"fmt"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// pinNetNS creates a network namespace and bind-mounts it at path, so it
// lives on without any process in it (CNI runs before the pause process
// exists, and the namespace must outlive a pause that dies). Loopback is
// brought up, as every pod expects.
func pinNetNS(path string) error {
	return pinNewNamespaces(map[string]string{"net": path}, "")
}

// newNamespaceFlags are the clone flags of the namespaces berth creates
// and pins itself, by kind (the name of their /proc/<pid>/ns file).
var newNamespaceFlags = map[string]uintptr{
	"net": unix.CLONE_NEWNET,
	"ipc": unix.CLONE_NEWIPC,
	"uts": unix.CLONE_NEWUTS,
}

// pinNewNamespaces creates a namespace of each kind in pins ("net", "ipc",
// "uts") and bind-mounts it at its path, so it lives on without any
// process in it: a pod whose containers do not share a PID namespace needs
// no process of its own. One thread unshares them all at once and sets the
// UTS namespace's hostname; the network namespace gets its loopback up.
// On failure nothing is left pinned.
func pinNewNamespaces(pins map[string]string, hostname string) (err error) {
	var flags uintptr
	created := map[string]string{}
	defer func() {
		if err != nil {
			unpinNamespaces(created)
		}
	}()
	for kind, path := range pins {
		flag, ok := newNamespaceFlags[kind]
		if !ok {
			return fmt.Errorf("berth cannot make a %s namespace without a process", kind)
		}
		flags |= flag
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
		if err != nil {
			return fmt.Errorf("create %s namespace pin: %w", kind, err)
		}
		f.Close()
		created[kind] = path
	}

	errc := make(chan error, 1)
	go func() {
		// This thread moves into the new namespaces and is never unlocked:
		// when the goroutine ends the Go runtime throws the thread away
		// instead of reusing it in the wrong namespaces.
		runtime.LockOSThread()
		if err := unix.Unshare(int(flags)); err != nil {
			errc <- fmt.Errorf("unshare namespaces: %w", err)
			return
		}
		if pins["uts"] != "" && hostname != "" {
			if err := unix.Sethostname([]byte(hostname)); err != nil {
				errc <- fmt.Errorf("set hostname %q: %w", hostname, err)
				return
			}
		}
		for kind, path := range pins {
			self := fmt.Sprintf("/proc/%d/task/%d/ns/%s", os.Getpid(), unix.Gettid(), kind)
			if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
				errc <- fmt.Errorf("bind-mount %s namespace at %s: %w", kind, path, err)
				return
			}
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		return err
	}
	if net := pins["net"]; net != "" {
		return loopbackUp(net)
	}
	return nil
}

func loopbackUp(path string) error {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", path, err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("bring up loopback in %s: %w", path, err)
	}
	return nil
}
