package sandbox

import (
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
	"github.com/berth-dev/berth/internal/podinit"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/reaper"
	"github.com/berth-dev/berth/internal/undo"
)

// A pod whose containers share a PID namespace needs a process: PID 1 of
// that namespace, which lives as long as the pod (a PID namespace whose
// init has exited takes no new process). berth starts the pause program as
// that init itself, with no OCI runtime and no monitor, in the pod's
// pinned network, IPC and UTS namespaces, in a tree of its own
// (internal/podinit). Other pods have no process of their own at all.
//
// Every init of a pod without a user namespace shares one mount namespace,
// made once and pinned under the namespace dir. That of a user-namespaced
// pod makes its own (makeUserNamespace).
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
		if err := podinit.EnterRoot(rootfs, program); err != nil {
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

// startedInit is a pod init berth started.
type startedInit struct {
	pid   int
	start uint64 // its start time, against pid reuse
}

// startPodInit starts the pause program as PID 1 of a new PID namespace,
// in the mount namespace pinned at mountNS and the namespaces pinned at
// joins (by kind: "net", "ipc", "uts"), as the pause user with no
// capabilities, in its own session, born in the cgroup of birth. berth
// reaps it when it exits.
func startPodInit(mountNS string, joins map[string]string, command []string, birth *cgroups.Birthplace) (startedInit, error) {
	// Opened here, in the host's mount namespace: the starting thread sees
	// only the init's tree once it has entered it.
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return startedInit{}, err
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
		if err := bornIn(birth, cmd.SysProcAttr); err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		pid = cmd.Process.Pid
		return cmd.Process.Release()
	})
	if err != nil {
		return startedInit{}, fmt.Errorf("start the pod's init: %w", err)
	}
	// Out here: the adoption reads /proc, which the init's tree lacks.
	return adoptInit(pid)
}

// adoptInit has berth reap the pod init it started, pid, when it exits,
// and reads its start time.
func adoptInit(pid int) (startedInit, error) {
	reaper.Adopt(pid)
	st, err := proc.ReadStat(pid)
	if err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return startedInit{}, fmt.Errorf("pod init %d: %w", pid, err)
	}
	return startedInit{pid: pid, start: st.StartTime}, nil
}

// keepInit makes a pod init berth started the pod's: recorded, and saved
// at once (a crash before the pod is complete kills it at the next start's
// rollback), and given the pause OOM score (raised to what berth may set;
// a host that refuses is logged). The undo that stops it, pushed before it
// was started (undoInit), now knows its pid.
func (m *Manager) keepInit(rec *Record, init startedInit) error {
	rec.PausePID, rec.PauseStart = init.pid, init.start
	if err := m.save(*rec); err != nil {
		return err
	}
	score := m.opts.Host.ClampOOMScoreAdj(pauseOOMScore)
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", init.pid), []byte(fmt.Sprint(score)), 0); err != nil {
		m.warnSettle(rec, fmt.Errorf("set OOM score %d: %w", score, err))
	}
	return nil
}

// undoInit has u stop the pod's init, pushed before its cgroup is made:
// the undo removes the cgroup, and what is in it, even if the init never
// started or was not yet recorded.
func (m *Manager) undoInit(rec *Record, u *undo.Stack) {
	u.Push("stop pod init", func() error { return m.stopPause(rec) })
}

// initBirthplace opens the sandbox's cgroup for its init to be born in,
// where runc would have put a pause process. A host that refuses is told
// once in the log, and the init stays in berth's cgroup: not worth failing
// the pod for, the init is tiny.
func (m *Manager) initBirthplace(rec *Record) *cgroups.Birthplace {
	b, err := m.opts.Host.Cgroups.OpenBirthplace(cgroups.Driver(m.opts.CgroupDriver), rec.CgroupsPath)
	if err != nil {
		m.warnSettle(rec, err)
		return nil
	}
	return b
}

// bornIn moves the calling thread (locked, and thrown away after) into the
// cgroup in birth's v1 hierarchies and has attr clone the child into its v2
// one, so that the child is born there; nil is berth's own cgroup.
func bornIn(birth *cgroups.Birthplace, attr *syscall.SysProcAttr) error {
	if birth == nil {
		return nil
	}
	if err := birth.EnterThread(); err != nil {
		return err
	}
	attr.CgroupFD, attr.UseCgroupFD = birth.CgroupFD()
	return nil
}

// warnSettle logs, once, that a pod init is not where runc would have put
// a pause process.
func (m *Manager) warnSettle(rec *Record, err error) {
	m.settleFailed.Do(func() {
		logrus.WithError(err).WithField("sandbox", rec.ID).Warn("pod init left in berth's cgroup or OOM score (logged once)")
	})
}
