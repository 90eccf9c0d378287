package sandbox

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/events"
	"github.com/berth-dev/berth/internal/proc"
)

// Stop stops the pod's containers and pause process, detaches it from the
// network and unmounts its /dev/shm. Stopping a stopped sandbox, or one
// stopped halfway before, finishes the job. An unknown one is not an error:
// kubelet stops pods it lost track of, and may find them already removed.
func (m *Manager) Stop(ctx context.Context, id string) error {
	sb, err := m.Get(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	sb.op.Lock()
	defer sb.op.Unlock()
	if sb.removed {
		return nil // removed while this call waited
	}
	if err := m.opts.Containers.StopPodContainers(ctx, sb.ID()); err != nil {
		return fmt.Errorf("stop containers of the pod: %w", err)
	}
	rec := sb.Snapshot()
	err = m.release(ctx, &rec)
	wasReady := rec.State == Ready
	rec.State = NotReady
	sb.update(func(r *Record) { *r = rec })
	sb.unwatchPause()
	if wasReady {
		m.publish(events.Stopped, rec.ID)
	}
	if serr := m.save(rec); err == nil {
		err = serr
	}
	return err
}

// release frees what a running sandbox holds, leaving its record, files
// and netns pin: the pause process, the CNI attachment, the shm mount. Each
// step is skipped when already done, so it can be run again after a failure.
// It updates rec to say what is left.
//
// The pause process and the CNI attachment are released at once: CNI DEL
// works on the pinned netns, not on the pause, and the two are the slow
// steps (runc; the plugins and their iptables). Both only read rec until
// both are done.
func (m *Manager) release(ctx context.Context, rec *Record) error {
	var errs []error
	pauseStopped := make(chan error, 1)
	go func() { pauseStopped <- m.stopPause(rec) }()
	detached, detachErr := m.detach(rec)
	if err := <-pauseStopped; err != nil {
		errs = append(errs, err)
	} else {
		rec.PausePID, rec.PauseStart = 0, 0
	}
	if detachErr != nil {
		errs = append(errs, detachErr)
	} else if detached {
		rec.Network.Network, rec.Network.Config = "", nil
	}
	if err := unmountShm(rec.ShmPath); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// detach runs CNI DEL for the pod's attachment, if it has one; detached
// says whether one was removed. It does not change rec.
func (m *Manager) detach(rec *Record) (detached bool, err error) {
	att := rec.Network
	if att.Network == "" && !rec.Complete && rec.NetNS != "" {
		// A record from before berth saved the network it chose ahead of
		// ADD, left by a crash during ADD: the current network is the best
		// guess.
		if list, err := m.opts.Network.Network(); err == nil {
			att.Network = list.Name
		}
	}
	if att.Network == "" {
		return false, nil
	}
	if err := m.opts.Network.Detach(cniPod(rec), att); err != nil {
		return false, err
	}
	return true, nil
}

// stopPause kills the pause process, deletes it from the runtime and
// removes its cgroup; or kills the pod init berth started, which no
// runtime knows. A pod without either has nothing to stop.
func (m *Manager) stopPause(rec *Record) error {
	ctx, cancel := context.WithTimeout(context.Background(), runtimeTimeout)
	defer cancel()
	if rec.Holder == HolderBerth {
		return m.stopPodInit(ctx, rec)
	}
	rt, rerr := m.opts.Runtimes.Get(rec.Handler)
	if m.pauseAlive(rec) {
		if rerr != nil || rt.Kill(ctx, rec.ID, syscall.SIGKILL, false) != nil {
			// The runtime lost track of it (or its handler is no longer
			// configured): kill it by pid; the start time proved it is ours.
			if err := syscall.Kill(rec.PausePID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("kill pause process %d: %w", rec.PausePID, err)
			}
		}
		if err := proc.WaitExit(ctx, rec.PausePID, rec.PauseStart); err != nil {
			return fmt.Errorf("wait for pause process %d: %w", rec.PausePID, err)
		}
	}
	if rerr != nil {
		logrus.WithField("sandbox", rec.ID).WithError(rerr).Warn("cannot delete the pause process from its runtime")
	} else if err := rt.Delete(ctx, rec.ID); err != nil {
		return err
	}
	// The runtime's delete removed the cgroup of a pause process it knew;
	// a create killed halfway (berth died during it) leaves one it does
	// not know, as does a handler no longer configured.
	return m.opts.Host.Cgroups.Remove(cgroups.Driver(m.opts.CgroupDriver), rec.CgroupsPath)
}

// stopPodInit kills the init berth started for the pod, if it has one,
// and removes its cgroup.
func (m *Manager) stopPodInit(ctx context.Context, rec *Record) error {
	if rec.PauseNS["pid"] == "" {
		return nil // no init: the pod's namespaces are only pinned
	}
	if rec.PausePID != 0 && m.pauseAlive(rec) {
		if err := syscall.Kill(rec.PausePID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill pod init %d: %w", rec.PausePID, err)
		}
		if err := proc.WaitExit(ctx, rec.PausePID, rec.PauseStart); err != nil {
			return fmt.Errorf("wait for pod init %d: %w", rec.PausePID, err)
		}
	}
	// Also with no init recorded: berth may have died after making the
	// cgroup, or even starting the init in it, and before saving its pid.
	// Removing the cgroup kills what is in it.
	return m.opts.Host.Cgroups.Remove(cgroups.Driver(m.opts.CgroupDriver), rec.CgroupsPath)
}

func (m *Manager) pauseAlive(rec *Record) bool {
	return proc.Alive(rec.PausePID, rec.PauseStart)
}
