package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/reaper"
)

// A pod whose containers share a PID namespace needs a process: PID 1 of
// that namespace, which lives as long as the pod (a PID namespace whose
// init has exited takes no new process). berth starts the pause program as
// that init itself, with no OCI runtime and no monitor, in the pod's
// pinned network, IPC and UTS namespaces. Other pods have no process of
// their own at all.
//
// The init runs in a mount namespace whose whole tree is the empty
// read-only pause rootfs with the program bound at /pause: the host's tree
// is pivoted away and detached. A chroot would not do: a container of the
// pod running as the init's user may open /proc/1/root, and ".." from a
// chroot's root leads on to the host's. Every pod's init shares that one
// mount namespace, made once and pinned under the namespace dir.
const initMountNSPin = "pod-init-mnt"

// initMountNS is the shared mount namespace of pod inits, made the first
// time one is needed.
type initMountNS struct {
	mu   sync.Mutex
	path string // the pin, once made
	err  error  // why it could not be made, once tried and failed
}

// podInitMountNS returns the pin of the pod inits' mount namespace. A host
// where it cannot be made (a root that pivot_root refuses, such as an
// initramfs) is told once in the log; its pods that share a PID namespace
// then get a pause process from the OCI runtime instead.
func (m *Manager) podInitMountNS() (string, error) {
	ns := &m.initMnt
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.path != "" || ns.err != nil {
		return ns.path, ns.err
	}
	path := filepath.Join(m.nsDir(), initMountNSPin)
	// A pin of an earlier run (perhaps of another pause command) is
	// replaced; its inits keep their namespace alive while they run.
	err := unpinNS(path)
	if err == nil {
		err = makeInitMountNS(m.pauseRootfs(), m.opts.Pause.Command[0], path)
	}
	if err != nil {
		ns.err = fmt.Errorf("make the mount namespace of pod inits: %w", err)
		logrus.WithError(ns.err).Warn("pods that share a PID namespace get a pause process from the OCI runtime instead of an init berth starts")
		return "", ns.err
	}
	ns.path = path
	return path, nil
}

// makeInitMountNS makes a mount namespace whose root is rootfs, read-only,
// with program bound read-only at /pause, and pins it at pin.
func makeInitMountNS(rootfs, program, pin string) (err error) {
	f, err := os.OpenFile(pin, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	defer func() {
		if err != nil {
			unpinNS(pin)
		}
	}()
	entered := make(chan error, 1)
	tid := make(chan int, 1)
	pinned := make(chan struct{})
	defer close(pinned)
	go func() {
		// Never unlocked: the thread ends with the goroutine, in the new
		// mount namespace, and is not reused.
		runtime.LockOSThread()
		tid <- unix.Gettid()
		if err := enterInitRoot(rootfs, program); err != nil {
			entered <- err
			return
		}
		entered <- nil
		<-pinned // the namespace lives while this thread is in it
	}()
	t := <-tid
	if err := <-entered; err != nil {
		return err
	}
	// The pin is made from the host's mount namespace, where it must be.
	self := fmt.Sprintf("/proc/%d/task/%d/ns/mnt", os.Getpid(), t)
	if err := unix.Mount(self, pin, "none", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("pin it at %s: %w", pin, err)
	}
	return nil
}

// enterInitRoot moves the calling thread, locked to it, into a new mount
// namespace and pivots its root to rootfs.
func enterInitRoot(rootfs, program string) error {
	const ro = unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV
	target := filepath.Join(rootfs, pauseInRootfs)
	steps := []struct {
		what string
		do   func() error
	}{
		// CLONE_FS: this thread's root and cwd become its own to change.
		{"unshare the mount namespace", func() error { return unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS) }},
		{"make mounts private", func() error { return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") }},
		{"bind the rootfs", func() error { return unix.Mount(rootfs, rootfs, "", unix.MS_BIND, "") }},
		{"bind the pause program", func() error { return unix.Mount(program, target, "", unix.MS_BIND, "") }},
		{"make the pause program read-only", func() error { return unix.Mount("", target, "", ro, "") }},
		{"enter the rootfs", func() error { return unix.Chdir(rootfs) }},
		{"pivot_root", func() error { return unix.PivotRoot(".", ".") }},
		{"detach the host's tree", func() error { return unix.Unmount(".", unix.MNT_DETACH) }},
		{"chdir /", func() error { return unix.Chdir("/") }},
		{"make the root read-only", func() error { return unix.Mount("", "/", "", ro, "") }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// podInit is a pod init berth started.
type podInit struct {
	pid   int
	start uint64 // its start time, against pid reuse
}

// startPodInit starts the pause program as PID 1 of a new PID namespace,
// in the mount namespace pinned at mountNS and the namespaces pinned at
// joins (by kind: "net", "ipc", "uts"), as the pause user with no
// capabilities, in its own session. berth reaps it when it exits.
func startPodInit(mountNS string, joins map[string]string, command []string) (podInit, error) {
	// Opened here, in the host's mount namespace: the starting thread sees
	// only the init's tree once it has entered it.
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return podInit{}, err
	}
	defer devNull.Close()
	var pid int
	err = inNamespaces(mountNS, joins, func() error {
		cmd := &exec.Cmd{
			Path:   pauseInRootfs,
			Args:   append([]string{pauseInRootfs}, command[1:]...),
			Env:    []string{},
			Stdin:  devNull,
			Stdout: devNull,
			Stderr: devNull,
			SysProcAttr: &syscall.SysProcAttr{
				Cloneflags: unix.CLONE_NEWPID,
				Setsid:     true,
				Credential: &syscall.Credential{Uid: pauseUID, Gid: pauseUID},
			},
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		pid = cmd.Process.Pid
		return cmd.Process.Release()
	})
	if err != nil {
		return podInit{}, fmt.Errorf("start the pod's init: %w", err)
	}
	// Out here: the adoption reads /proc, which the init's tree lacks.
	reaper.Adopt(pid)
	st, err := proc.ReadStat(pid)
	if err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return podInit{}, fmt.Errorf("pod init %d: %w", pid, err)
	}
	return podInit{pid: pid, start: st.StartTime}, nil
}

// settleInit puts a pod's init where runc would have put a pause process:
// in the sandbox's cgroup, with the pause OOM score (raised to what berth
// may set). Neither is worth failing the pod for: the init is tiny, and a
// host that refuses either is logged.
func (m *Manager) settleInit(rec *Record) error {
	var errs []error
	if err := m.opts.Host.Cgroups.Enter(cgroups.Driver(m.opts.CgroupDriver), rec.CgroupsPath, rec.PausePID); err != nil {
		errs = append(errs, err)
	}
	score := m.opts.Host.ClampOOMScoreAdj(pauseOOMScore)
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", rec.PausePID), []byte(fmt.Sprint(score)), 0); err != nil {
		errs = append(errs, fmt.Errorf("set OOM score %d: %w", score, err))
	}
	return errors.Join(errs...)
}
