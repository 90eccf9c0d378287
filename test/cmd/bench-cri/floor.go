package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/opencontainers/runtime-tools/generate"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// floor measures what a pod with one container is made of, done directly:
// a pinned network namespace with loopback up, CNI ADD of the network,
// the OCI runtime running a pause process in it, and the runtime running
// the container in the pause's namespaces. A CRI runtime cannot be faster
// than the sum without skipping one of them.
type floor struct {
	work      string // scratch dir
	runc      string
	pause     string // the pause binary (catatonit)
	rootfs    string // the container's root filesystem (busybox)
	network   *libcni.NetworkConfigList
	cni       *libcni.CNIConfig
	runcState string
}

func newFloor(work, runcPath, pauseBinary, busyboxRoot, cniConfDir string, pluginDirs []string) (*floor, error) {
	f := &floor{work: work, runc: runcPath, pause: pauseBinary, runcState: filepath.Join(work, "runc")}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	files, err := libcni.ConfFiles(cniConfDir, []string{".conflist"})
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("floor: no CNI conflist in %s (%v)", cniConfDir, err)
	}
	if f.network, err = libcni.ConfListFromFile(files[0]); err != nil {
		return nil, err
	}
	f.cni = libcni.NewCNIConfig(pluginDirs, nil)
	// Copies, so the runtime may make its mount points in them.
	f.rootfs = filepath.Join(work, "busybox")
	if out, err := exec.Command("cp", "-a", busyboxRoot, f.rootfs).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("floor: copy %s: %v: %s", busyboxRoot, err, out)
	}
	pauseRoot := filepath.Join(work, "pause-rootfs")
	if err := os.MkdirAll(pauseRoot, 0o755); err != nil {
		return nil, err
	}
	if out, err := exec.Command("cp", pauseBinary, filepath.Join(pauseRoot, "pause")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("floor: copy %s: %v: %s", pauseBinary, err, out)
	}
	return f, nil
}

// sample makes one pod and container the direct way, records each step,
// and undoes it all.
func (f *floor) sample(ctx context.Context, i int, s *samples) (err error) {
	id := fmt.Sprintf("bench-floor-%d-%d", os.Getpid(), i)
	dir := filepath.Join(f.work, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// ready is the sum of the steps: what the pod and container took.
	var ready time.Duration
	step := func(name string, fn func() error) error {
		start := time.Now()
		if err := fn(); err != nil {
			return err
		}
		d := time.Since(start)
		s.add(name, d)
		ready += d
		return nil
	}
	nsPath := filepath.Join(dir, "netns")
	if err := step("floor: netns", func() error { return pinNetNS(nsPath) }); err != nil {
		return err
	}
	defer unix.Unmount(nsPath, unix.MNT_DETACH)

	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: nsPath, IfName: "eth0"}
	if err := step("floor: CNI ADD", func() error {
		_, err := f.cni.AddNetworkList(ctx, f.network, rt)
		return err
	}); err != nil {
		return fmt.Errorf("floor: CNI ADD: %w", err)
	}
	// The teardown below is measured; these undo what a failure left.
	tornDown := false
	defer func() {
		if !tornDown {
			f.cni.DelNetworkList(context.Background(), f.network, rt)
		}
	}()

	pauseID, ctrID := id+"-pause", id+"-ctr"
	pauseBundle, err := f.bundle(dir, "pause", filepath.Join(f.work, "pause-rootfs"), []string{"/pause", "-P"}, map[string]string{"network": nsPath})
	if err != nil {
		return err
	}
	if err := step("floor: runtime runs pause", func() error { return f.run(ctx, pauseID, pauseBundle) }); err != nil {
		return err
	}
	defer func() {
		if !tornDown {
			f.delete(pauseID)
		}
	}()
	data, err := os.ReadFile(filepath.Join(pauseBundle, "pid"))
	if err != nil {
		return err
	}
	pausePid := strings.TrimSpace(string(data))
	ctrBundle, err := f.bundle(dir, "ctr", f.rootfs, []string{"/bin/busybox", "sleep", "3600"}, map[string]string{
		"network": nsPath,
		"ipc":     fmt.Sprintf("/proc/%s/ns/ipc", pausePid),
		"uts":     fmt.Sprintf("/proc/%s/ns/uts", pausePid),
	})
	if err != nil {
		return err
	}
	if err := step("floor: runtime runs container", func() error { return f.run(ctx, ctrID, ctrBundle) }); err != nil {
		return err
	}
	s.add("floor: pod + container ready", ready)

	// The way down, as kubelet deletes a pod: the container, the pause,
	// the network.
	tornDown = true
	var gone time.Duration
	down := func(name string, fn func() error) error {
		start := time.Now()
		err := fn()
		d := time.Since(start)
		s.add(name, d)
		gone += d
		return err
	}
	if err := down("floor: runtime deletes container", func() error { return f.delete(ctrID) }); err != nil {
		return err
	}
	if err := down("floor: runtime deletes pause", func() error { return f.delete(pauseID) }); err != nil {
		return err
	}
	if err := down("floor: CNI DEL", func() error { return f.cni.DelNetworkList(ctx, f.network, rt) }); err != nil {
		return fmt.Errorf("floor: CNI DEL: %w", err)
	}
	s.add("floor: pod + container gone", gone)
	return nil
}

// bundle writes an OCI bundle: the runtime-tools default spec (the
// runtime's own defaults for capabilities, mounts, masked paths) running
// args in rootfs, read-only, joining the namespaces given by path.
func (f *floor) bundle(dir, name, rootfs string, args []string, join map[string]string) (string, error) {
	g, err := generate.New("linux")
	if err != nil {
		return "", err
	}
	g.SetRootPath(rootfs)
	g.SetRootReadonly(true)
	g.SetProcessArgs(args)
	g.SetProcessTerminal(false)
	g.SetHostname("")
	for ns, path := range join {
		if err := g.AddOrReplaceLinuxNamespace(ns, path); err != nil {
			return "", err
		}
	}
	if _, ok := join["uts"]; !ok {
		g.SetHostname(name)
	}
	bundle := filepath.Join(dir, name)
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		return "", err
	}
	return bundle, g.SaveToFile(filepath.Join(bundle, "config.json"), generate.ExportOptions{})
}

// run runs the container detached. Its stdio is /dev/null (a pipe would
// be held open by the container, and the wait for it never end); runc
// says what went wrong in its log.
func (f *floor) run(ctx context.Context, id, bundle string) error {
	log := filepath.Join(bundle, "runc.log")
	if err := exec.CommandContext(ctx, f.runc, "--root", f.runcState, "--log", log, "run", "-d", "--pid-file", filepath.Join(bundle, "pid"), "--bundle", bundle, id).Run(); err != nil {
		msg, _ := os.ReadFile(log)
		return fmt.Errorf("floor: runc run %s: %v: %s", id, err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// delete kills and deletes the container, as one runtime call.
func (f *floor) delete(id string) error {
	if out, err := exec.Command(f.runc, "--root", f.runcState, "delete", "--force", id).CombinedOutput(); err != nil {
		return fmt.Errorf("floor: runc delete %s: %v: %s", id, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// pinNetNS creates a network namespace, bind-mounts it at path and brings
// its loopback up.
func pinNetNS(path string) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	file.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread stays in the new namespace; never unlocked, it is
		// thrown away when the goroutine ends.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- unix.Mount(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()), path, "none", unix.MS_BIND, "")
	}()
	if err := <-errc; err != nil {
		return fmt.Errorf("floor: netns: %w", err)
	}
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	return h.LinkSetUp(lo)
}
