package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/cni"
	"github.com/berth-dev/berth/internal/events"
	"github.com/berth-dev/berth/internal/ids"
	"github.com/berth-dev/berth/internal/podinit"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/reaper"
	"github.com/berth-dev/berth/internal/trace"
	"github.com/berth-dev/berth/internal/undo"
	"github.com/berth-dev/berth/oci"
)

// runtimeTimeout bounds one OCI runtime call, so a runtime that hangs fails
// the call instead of holding the sandbox forever.
const runtimeTimeout = 2 * time.Minute

// Run creates and starts a pod sandbox and returns its ID.
//
// The work goes on when ctx ends (kubelet gave up waiting): kubelet then
// retries with the same name, and the retry waits for this sandbox and gets
// it, instead of an error or a second sandbox.
func (m *Manager) Run(ctx context.Context, cfg Config) (string, error) {
	r, err := m.resolve(&cfg)
	if err != nil {
		return "", err
	}
	id := ids.New()
	return m.names.Create(ctx, cfg.FullName(), id, func(ctx context.Context) error {
		return m.create(ctx, id, cfg, r)
	})
}

// resolved is what Run resolves of a config once, before anything is made.
type resolved struct {
	runtime      *oci.Runtime
	cgroupParent string
}

// resolve checks a config and resolves its runtime handler and cgroup
// parent.
func (m *Manager) resolve(cfg *Config) (resolved, error) {
	if cfg.Name == "" || cfg.Namespace == "" || cfg.UID == "" {
		return resolved{}, invalidf("metadata needs a name, a namespace and a uid (got name=%q namespace=%q uid=%q)", cfg.Name, cfg.Namespace, cfg.UID)
	}
	if err := cni.CheckArgs(cfg.Name, cfg.Namespace, cfg.UID); err != nil {
		return resolved{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(cfg.Hostname) > 64 {
		return resolved{}, invalidf("hostname %q is longer than 64 characters", cfg.Hostname)
	}
	rt, err := m.opts.Runtimes.Get(cfg.RuntimeHandler)
	if err != nil {
		return resolved{}, err
	}
	parent, err := oci.CgroupParent(m.opts.CgroupDriver, cfg.CgroupParent)
	if err != nil {
		return resolved{}, err
	}
	if err := checkSysctls(cfg.Sysctls, cfg.Namespaces); err != nil {
		return resolved{}, err
	}
	return resolved{runtime: rt, cgroupParent: parent}, nil
}

// create does the work of Run. Each step that makes something pushes its
// undo; a failure runs them all, so nothing is left behind.
func (m *Manager) create(ctx context.Context, id string, cfg Config, r resolved) (err error) {
	log := logrus.WithField("sandbox", id)
	rec := Record{
		ID:           id,
		Config:       cfg,
		Handler:      r.runtime.Handler,
		CreatedAt:    time.Now(),
		State:        NotReady,
		Dir:          filepath.Join(m.sandboxesDir(), id),
		CgroupParent: r.cgroupParent,
		CgroupsPath:  oci.CgroupsPath(m.opts.CgroupDriver, r.cgroupParent, id),
		BootID:       proc.BootID(),
	}
	if !cfg.Namespaces.HostNetwork {
		rec.NetNS = filepath.Join(m.nsDir(), id)
		if rec.Network, err = m.opts.Network.Choose(); err != nil {
			return err
		}
	}
	if !cfg.Namespaces.HostIPC {
		rec.ShmPath = filepath.Join(rec.Dir, "shm")
	}
	if cfg.Namespaces.UserNS != nil {
		rec.UsernsDir = filepath.Join(m.opts.UsernsRoot, id)
	}
	if m.holdsItself(cfg.Namespaces) {
		rec.Holder = HolderBerth
		rec.PauseNS = pinPaths(m.nsDir(), id, podNamespaces(cfg.Namespaces))
	} else {
		rec.PauseNS = pinPaths(m.nsDir(), id, pauseNamespaces(cfg.Namespaces))
	}
	hostname, err := podHostname(&cfg)
	if err != nil {
		return err
	}

	var u undo.Stack
	recorded := false
	defer func() {
		if err == nil {
			return
		}
		if uerr := u.Run(log); uerr != nil && recorded {
			// Something made could not be undone (a CNI DEL whose plugin
			// died, say): the record that names it stays, and the rollback
			// is retried until it is done.
			go m.retryRollback(rec)
			return
		}
		if recorded {
			if derr := m.opts.DB.Delete(bucket, id); derr != nil {
				log.WithError(derr).Warn("undo: delete record")
			}
		}
	}()
	// The record goes first, naming everything that will be made: a crash
	// midway leaves it incomplete, and the next start rolls it back.
	if err := m.save(rec); err != nil {
		return err
	}
	recorded = true
	if err := os.MkdirAll(rec.Dir, 0o700); err != nil {
		return err
	}
	u.Push("remove sandbox dir", func() error { return os.RemoveAll(rec.Dir) })
	if rec.UsernsDir != "" {
		if err := m.makeUsernsDir(&rec); err != nil {
			return err
		}
		u.Push("remove userns dir", func() error { return m.removeUsernsDir(&rec) })
	}

	// The netns, and for a pod berth holds its IPC and UTS namespaces,
	// are made at once by one thread, before CNI, which needs the netns.
	end := rec.Startup.Begin("namespaces")
	pins := rec.threadNamespaces()
	if len(pins) > 0 {
		if err := pinNewNamespaces(pins, hostname); err != nil {
			return err
		}
		u.Push("unpin pod namespaces", func() error {
			return unpinNamespaces(map[string]string{"ipc": pins["ipc"], "uts": pins["uts"]})
		})
	}
	end()
	// What holds the rest of the pod's namespaces (an init, a user
	// namespace) is made while CNI ADD runs, on an undo stack of its own.
	// Until both are done, only that goroutine touches rec: CNI writes a
	// copy of the network and its own steps.
	var held chan error
	var heldUndo undo.Stack
	if rec.needsHolding() {
		held = make(chan error, 1)
		go func() { held <- m.holdNamespaces(&rec, &heldUndo, hostname) }()
	}
	network, netSteps := rec.Network, trace.Steps{}
	var netErr error
	if rec.NetNS != "" {
		// The netns stays while a DEL is still to be retried: without it the
		// plugins free the IP but not the pod's NAT rules.
		detached := true
		u.Push("unpin netns", func() error {
			if !detached {
				return errors.New("kept for the CNI DEL still to be done")
			}
			return unpinNS(rec.NetNS)
		})
		pod := cniPod(&rec)
		// The network was chosen and saved with the record: DEL runs on it
		// even if berth dies during ADD and the config changes meanwhile.
		// Its undo is pushed first: a failed ADD may have taken an IP.
		u.Push("CNI DEL", func() error {
			err := m.opts.Network.Detach(pod, rec.Network)
			detached = err == nil
			return err
		})
		end := netSteps.Begin("cni")
		netErr = m.opts.Network.Attach(ctx, pod, &network)
		end()
	}
	var heldErr error
	if held != nil {
		heldErr = <-held
		u.Push("undo what holds the pod's namespaces", func() error { return heldUndo.Run(log) })
	}
	rec.Network, rec.Startup = network, append(rec.Startup, netSteps...)
	if err := errors.Join(netErr, heldErr); err != nil {
		return err
	}
	end = rec.Startup.Begin("files")
	if err := writePodFiles(&rec); err != nil {
		return err
	}
	if rec.ShmPath != "" {
		if err := mountShm(rec.ShmPath, m.opts.ShmSize); err != nil {
			return err
		}
		u.Push("unmount shm", func() error { return unmountShm(rec.ShmPath) })
	}
	end()

	if rec.Holder == HolderBerth {
		if err := applyPodSysctls(&rec); err != nil {
			return err
		}
	} else if err := m.runPause(ctx, &rec, &u, hostname); err != nil {
		return err
	}

	rec.State, rec.Complete = Ready, true
	if err := m.save(rec); err != nil {
		return err
	}
	sb := newSandbox(rec)
	sb.watchPause()
	m.mu.Lock()
	m.sandboxes[id] = sb
	m.mu.Unlock()
	m.publish(events.Created, id)
	m.publish(events.Started, id)
	log.WithFields(logrus.Fields{"pod": cfg.Namespace + "/" + cfg.Name, "ip": rec.PrimaryIP()}).Debug("sandbox ready")
	return nil
}

// threadNamespaces are the pod's namespaces that one thread of berth makes
// and pins, by kind: its netns, and for a pod berth holds, its IPC and UTS
// namespaces.
func (r *Record) threadNamespaces() map[string]string {
	pins := map[string]string{}
	if r.NetNS != "" {
		pins["net"] = r.NetNS
	}
	// A user namespace's IPC and UTS namespaces are made in it, by the
	// child that makes it (makeUserNamespace).
	if r.Holder == HolderBerth && r.Config.Namespaces.UserNS == nil {
		for _, kind := range []string{"ipc", "uts"} {
			if path := r.PauseNS[kind]; path != "" {
				pins[kind] = path
			}
		}
	}
	return pins
}

// holdsItself says whether berth holds a pod's namespaces itself, with no
// OCI runtime: unless the pod shares its PID namespace on a host where
// berth cannot start its init (in a mount namespace of its own; for a
// user-namespaced pod, through berth's helper).
func (m *Manager) holdsItself(ns Namespaces) bool {
	if !ns.SharedPID || ns.HostPID {
		return true
	}
	if ns.UserNS != nil {
		return m.canStartUsernsInit()
	}
	_, err := m.podInitMountNS()
	return err == nil
}

// canStartUsernsInit says whether berth can start user-namespaced pods'
// inits; checked once, and a host where it cannot is told once in the log.
func (m *Manager) canStartUsernsInit() bool {
	m.usernsInit.Do(func() {
		m.usernsInitErr = podinit.CanStartInUserNS(m.opts.Pause.Command[0])
		if m.usernsInitErr != nil {
			logrus.WithError(m.usernsInitErr).Warn("user-namespaced pods that share a PID namespace get a pause process from the OCI runtime instead of an init berth starts")
		}
	})
	return m.usernsInitErr == nil
}

// runPause has the runtime run the pod's pause process, which makes the
// pod's user namespace and the IPC, UTS and PID namespaces owned by it,
// and pins them.
func (m *Manager) runPause(ctx context.Context, rec *Record, u *undo.Stack, hostname string) error {
	rt, err := m.opts.Runtimes.Get(rec.Handler)
	if err != nil {
		return err
	}
	end := rec.Startup.Begin("pause create")
	spec, err := pauseSpec(rec, m.pauseRootfsOf(rec), m.opts.Pause.Command, hostname, m.opts.Host.ClampOOMScoreAdj(pauseOOMScore))
	if err != nil {
		return err
	}
	if err := writePauseSpec(rec, spec); err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, runtimeTimeout)
	defer cancel()
	u.Push("delete pause", func() error { return m.stopPause(rec) })
	if err := rt.Create(rctx, rec.ID, rec.Dir); err != nil {
		return fmt.Errorf("create pause process: %w", err)
	}
	if rec.PausePID, rec.PauseStart, err = readPid(rec.Dir); err != nil {
		return err
	}
	reaper.Adopt(rec.PausePID)
	u.Push("unpin pause namespaces", func() error { return unpinNamespaces(rec.PauseNS) })
	if err := pinProcessNamespaces(rec.PausePID, rec.PauseNS); err != nil {
		return err
	}
	end()
	end = rec.Startup.Begin("pause start")
	if err := rt.Start(rctx, rec.ID); err != nil {
		return fmt.Errorf("start pause process: %w", err)
	}
	end()
	return nil
}

// needsHolding says whether a pod whose namespaces berth holds needs more
// than the namespaces one thread pinned: an init, for a pod that shares its
// PID namespace; a user namespace, made and pinned with those it owns.
func (r *Record) needsHolding() bool {
	return r.Holder == HolderBerth && (r.Config.Namespaces.UserNS != nil || r.PauseNS["pid"] != "")
}

// holdNamespaces makes what holds a pod's namespaces, where needsHolding
// says it needs some: a user-namespaced pod's user namespace and those it
// owns, with its init if it has one (makeUserNamespace); another pod's init
// in the namespaces pinned for it, and its PID namespace pinned.
func (m *Manager) holdNamespaces(rec *Record, u *undo.Stack, hostname string) error {
	if rec.Config.Namespaces.UserNS != nil {
		end := rec.Startup.Begin("user namespace")
		defer end()
		return m.makeUserNamespace(rec, u, hostname)
	}
	end := rec.Startup.Begin("pod init")
	defer end()
	mountNS, err := m.podInitMountNS()
	if err != nil {
		return err
	}
	m.undoInit(rec, u)
	birth := m.initBirthplace(rec)
	defer birth.Close()
	init, err := startPodInit(mountNS, rec.threadNamespaces(), m.opts.Pause.Command, birth)
	if err != nil {
		return err
	}
	if err := m.keepInit(rec, init); err != nil {
		return err
	}
	pidPin := rec.PauseNS["pid"]
	u.Push("unpin pod PID namespace", func() error { return unpinNS(pidPin) })
	return pinProcessNamespaces(init.pid, map[string]string{"pid": pidPin})
}

// applyPodSysctls sets the sysctls of a pod whose namespaces berth holds.
func applyPodSysctls(rec *Record) error {
	if len(rec.Config.Sysctls) == 0 {
		return nil
	}
	end := rec.Startup.Begin("sysctls")
	defer end()
	if rec.Config.Namespaces.UserNS != nil {
		return applyUsernsSysctls(rec)
	}
	return applySysctls(rec.Config.Sysctls, rec.threadNamespaces())
}

// The waits between attempts to finish a rollback: doubling, up to a minute.
const (
	rollbackRetryFirst = time.Second
	rollbackRetryMax   = time.Minute
)

// retryRollback finishes the rollback of a sandbox whose create failed and
// whose undo did not all succeed, retrying with backoff until it is done
// (or berth stops; the next start rolls the incomplete record back).
func (m *Manager) retryRollback(rec Record) {
	log := logrus.WithField("sandbox", rec.ID)
	for wait := rollbackRetryFirst; ; wait = min(2*wait, rollbackRetryMax) {
		time.Sleep(wait)
		err := m.release(context.Background(), &rec)
		if err == nil {
			err = m.destroy(&rec)
		}
		if err == nil {
			log.Info("rolled back a failed sandbox create")
			return
		}
		log.WithError(err).Warn("rolling back a failed sandbox create; will retry")
	}
}

func cniPod(rec *Record) cni.Pod {
	return cni.Pod{
		ID:        rec.ID,
		Name:      rec.Config.Name,
		Namespace: rec.Config.Namespace,
		UID:       rec.Config.UID,
		NetNS:     rec.NetNS,
		Ports:     rec.Config.Ports,
		Bandwidth: bandwidth(rec.Config.Annotations),
	}
}

// readPid reads the pid the runtime wrote for the pause process, and its
// start time (a pid alone may be reused after a reboot or a long time).
func readPid(bundle string) (int, uint64, error) {
	pid, err := proc.ReadPidFile(filepath.Join(bundle, "pid"))
	if err != nil {
		return 0, 0, fmt.Errorf("read pause pid: %w", err)
	}
	st, err := proc.ReadStat(pid)
	if err != nil {
		return 0, 0, fmt.Errorf("pause process %d: %w", pid, err)
	}
	return pid, st.StartTime, nil
}
