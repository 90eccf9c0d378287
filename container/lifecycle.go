package container

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/events"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/signals"
	"github.com/berth-dev/berth/internal/trace"
)

// exitFileWait is how long berth waits, after the container's process is
// gone, for conmon to write its exit file.
const exitFileWait = 5 * time.Second

// Exit codes and reasons ContainerStatus reports.
const (
	ReasonCompleted = "Completed"
	ReasonError     = "Error"
	ReasonOOMKilled = "OOMKilled"
)

// refresh updates a created or running container from conmon's exit file,
// or marks it exited when both it and its monitor are gone.
func (m *Manager) refresh(c *Container) { m.refreshWith(c, containerRuns) }

// refreshWith is refresh, with running telling whether the container's
// process or its monitor runs. It takes no lock across the look: the save
// that follows is skipped for a container removed meanwhile (persist).
func (m *Manager) refreshWith(c *Container, running func(*Record) bool) {
	rec := c.Snapshot()
	// An incomplete container has its runtime's create at work
	// (createInRuntime): no process to look at yet.
	if rec.State == Exited || !rec.Complete {
		return
	}
	exit, ok := m.observeExit(&rec, running)
	if !ok {
		return
	}
	rec = c.update(func(r *Record) {
		prev := r.State
		r.setExited(exit)
		// Under the record's lock, so that the events of one container
		// go out in the order its states changed.
		if prev != Exited && !(prev == Created && c.starting) {
			m.publish(events.Stopped, r)
		}
	})
	c.unwatch()
	if err := m.persist(c); err != nil {
		logrus.WithError(err).WithField("container", rec.ID).Warn("saving container state")
	}
	m.releaseAfterExit(c)
}

// observeExit says how a container ended, or false while it runs. running
// reports whether its process or its monitor still runs.
//
// Liveness is looked at first and the exit file second: conmon writes the
// file before it exits, so once both processes are seen gone a missing
// file will never come. The other order loses a race with a conmon that
// writes its file and exits between the two looks, and reports an exit
// code conmon knew (137 after a SIGKILL) as unknown (255).
func (m *Manager) observeExit(rec *Record, running func(*Record) bool) (exitInfo, bool) {
	gone := !running(rec)
	if e, ok := m.opts.Monitor.ReadExit(rec.ID, filepath.Join(rec.Dir, "persist")); ok {
		return exitInfo{Code: e.Code, FinishedAt: e.FinishedAt, OOMKilled: e.OOMKilled}, true
	}
	if !gone {
		return exitInfo{}, false
	}
	return exitInfo{Code: 255, FinishedAt: time.Now(), unknown: true}, true
}

// containerRuns says whether a container's process or its monitor runs.
func containerRuns(rec *Record) bool {
	return proc.Alive(rec.Pid, rec.PidStart) || conmonRuns(rec)
}

// conmonRuns says whether the container's monitor runs: its pid, checked
// against its start time (records from before berth kept it: the pid).
func conmonRuns(rec *Record) bool {
	if rec.ConmonPid <= 0 {
		return false
	}
	if rec.ConmonStart != 0 {
		return proc.Alive(rec.ConmonPid, rec.ConmonStart)
	}
	return processRuns(rec.ConmonPid)
}

// exitInfo is how a container ended.
type exitInfo struct {
	Code       int32
	FinishedAt time.Time
	OOMKilled  bool
	unknown    bool // conmon died without writing the exit file
}

func (r *Record) setExited(e exitInfo) {
	if r.State == Exited {
		return
	}
	r.State, r.ExitCode, r.FinishedAt = Exited, e.Code, e.FinishedAt
	// The exit file's time is coarse; a container cannot end before it started.
	if r.FinishedAt.Before(r.StartedAt) {
		r.FinishedAt = r.StartedAt
	}
	switch {
	case e.OOMKilled:
		r.Reason = ReasonOOMKilled
		if r.ExitCode == 0 {
			r.ExitCode = 137
		}
	case e.unknown:
		r.Reason, r.Message = ReasonError, "the container's process and its monitor are gone; exit code unknown"
	case e.Code == 0:
		r.Reason = ReasonCompleted
	default:
		r.Reason = ReasonError
	}
}

func processRuns(pid int) bool {
	st, err := proc.ReadStat(pid)
	return err == nil && st.State != 'Z'
}

// Start starts a created container.
func (m *Manager) Start(ctx context.Context, id string) error {
	c, err := m.Get(id)
	if err != nil {
		return err
	}
	if err := m.lockOp(c); err != nil {
		return err
	}
	defer c.op.Unlock()
	rec := c.Snapshot()
	if err := c.createError(); err != nil {
		return err
	}
	if rec.State != Created {
		return fmt.Errorf("%w: container %s is %s, only a created container can start", ErrFailedPrecondition, rec.ID, rec.State)
	}
	rt, err := m.opts.Runtimes.Get(rec.Handler)
	if err != nil {
		return err
	}
	started := time.Now()
	// Not under the caller's context: a start cancelled midway (kubelet
	// gave up) could leave the process running and recorded as created.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), runtimeCallTimeout)
	defer cancel()
	c.update(func(*Record) { c.starting = true })
	step := trace.Steps{}
	end := step.Begin(StartStep)
	if err := rt.Start(sctx, rec.ID); err != nil {
		c.update(func(r *Record) {
			c.starting = false
			if r.State == Exited {
				m.publish(events.Stopped, r)
			}
		})
		m.releaseAfterExit(c)
		return err
	}
	// A status call may have seen the process exit already (and marked the
	// container exited) before this update: the start time still counts,
	// and the start is announced before the exit.
	end()
	rec = c.update(func(r *Record) {
		c.starting = false
		r.Startup = append(r.Startup, step...)
		if r.StartedAt.IsZero() {
			r.StartedAt = started
		}
		exited := r.State == Exited
		if r.State == Created {
			r.State = Running
		}
		if r.FinishedAt.Before(r.StartedAt) && exited {
			r.FinishedAt = r.StartedAt
		}
		m.publish(events.Started, r)
		if exited {
			m.publish(events.Stopped, r)
		}
	})
	err = m.persist(c)
	m.releaseAfterExit(c) // if it exited during the start
	return err
}

// Stop sends the stop signal (the CRI config's, else the image's, else
// SIGTERM), waits up to timeout, then SIGKILL. Stopping a stopped container
// is fine, and Stop always ends: a container whose process or monitor is
// already gone is marked exited. An unknown container is not an error
// (kubelet may stop one that is already removed).
//
// It returns once the runtime's delete that follows the exit has ended,
// as containerd's does: the container's cgroup is gone, and the
// RemoveContainer that follows has only files to remove.
func (m *Manager) Stop(ctx context.Context, id string, timeout time.Duration) error {
	c, err := m.Get(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.lockOp(c); errors.Is(err, ErrNotFound) {
		return nil // removed while this call waited
	}
	defer c.op.Unlock()
	if err := m.stop(ctx, c, timeout); err != nil {
		return err
	}
	return m.awaitRelease(ctx, c)
}

func (m *Manager) stop(ctx context.Context, c *Container, timeout time.Duration) error {
	m.refresh(c)
	rec := c.Snapshot()
	if rec.State == Exited {
		return nil
	}
	log := logrus.WithField("container", rec.ID)
	rt, rterr := m.opts.Runtimes.Get(rec.Handler)
	kill := func(sig syscall.Signal) {
		if rterr == nil && rt.Kill(ctx, rec.ID, sig, false) == nil {
			return
		}
		// The runtime lost it: signal the pid, whose start time proves it ours.
		if proc.Alive(rec.Pid, rec.PidStart) {
			syscall.Kill(rec.Pid, sig)
		}
	}
	if timeout > 0 && rec.State == Running {
		kill(signals.Stop(rec.StopSignal))
		wctx, cancel := context.WithTimeout(ctx, timeout)
		err := proc.WaitExit(wctx, rec.Pid, rec.PidStart)
		cancel()
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if proc.Alive(rec.Pid, rec.PidStart) {
		kill(syscall.SIGKILL)
		wctx, cancel := context.WithTimeout(ctx, runtimeCallTimeout)
		err := proc.WaitExit(wctx, rec.Pid, rec.PidStart)
		cancel()
		if err != nil {
			return fmt.Errorf("container process %d survived SIGKILL: %w", rec.Pid, err)
		}
	}
	if m.awaitExitFile(c, func() bool { return conmonRuns(&rec) }) {
		return nil
	}
	log.Warn("no exit file from conmon; marking the container exited")
	c.update(func(r *Record) { r.setExited(exitInfo{Code: 137, FinishedAt: time.Now(), unknown: true}) })
	err := m.persist(c)
	m.releaseAfterExit(c)
	return err
}

// awaitExitFile waits, once the container's process is gone, for conmon to
// write its exit file (it does once it has reaped the process), and says
// whether the container is now recorded exited. Whether conmon runs is
// looked at before the file, as in observeExit: a conmon that writes the
// file and exits between the two looks must not turn a known exit code
// into an unknown one.
func (m *Manager) awaitExitFile(c *Container, conmonRuns func() bool) bool {
	deadline := time.Now().Add(exitFileWait)
	for {
		conmonGone := !conmonRuns()
		m.refresh(c)
		if c.Snapshot().State == Exited {
			return true
		}
		if conmonGone || time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Remove kills the container if it runs and deletes every trace of it. An
// unknown container is not an error.
func (m *Manager) Remove(ctx context.Context, id string) error {
	c, err := m.Get(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.lockOp(c); errors.Is(err, ErrNotFound) {
		return nil // removed while this call waited
	}
	defer c.op.Unlock()
	if err := m.stop(ctx, c, 0); err != nil {
		return err
	}
	if err := m.awaitRelease(ctx, c); err != nil {
		return err
	}
	rec := c.Snapshot()
	if err := m.destroy(ctx, &rec); err != nil {
		return err
	}
	if err := m.forget(c); err != nil {
		return err
	}
	c.unwatch()
	m.mu.Lock()
	delete(m.containers, rec.ID)
	m.mu.Unlock()
	m.names.Release(rec.Name, rec.ID)
	m.forgetStats(rec.ID)
	m.publish(events.Deleted, &rec)
	return nil
}

// destroy removes a stopped container from the runtime and deletes its
// rootfs and image volume mounts, dirs and exit file; its record is the
// caller's to delete. A container
// whose create never finished may still have its monitor at work on the
// runtime's create: that is killed first.
func (m *Manager) destroy(ctx context.Context, rec *Record) error {
	if err := m.releaseRuntime(ctx, rec); err != nil {
		return err
	}
	if err := image.UnmountRootfs(rec.RootfsPath()); err != nil {
		return err
	}
	if err := unmountImageVolumes(rec.Bundle); err != nil {
		return err
	}
	if err := m.removeDirs(rec); err != nil {
		return err
	}
	m.opts.Monitor.RemoveExit(rec.ID)
	m.opts.Monitor.RemoveSocketDir(rec.ID)
	return nil
}

// releaseRuntime deletes what the OCI runtime holds of a container: the
// monitor of a create that never finished, the runtime's state, and the
// cgroup. The runtime's delete removes the cgroup of a container it knew;
// a create killed halfway leaves one it does not know.
func (m *Manager) releaseRuntime(ctx context.Context, rec *Record) error {
	if !rec.Complete {
		if err := m.opts.Monitor.KillHalfCreated(rec.ID, rec.Bundle); err != nil {
			return err
		}
	}
	if rt, err := m.opts.Runtimes.Get(rec.Handler); err == nil && !rec.RuntimeDeleted {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), runtimeCallTimeout)
		err := rt.Delete(dctx, rec.ID)
		cancel()
		if err != nil {
			return err
		}
	}
	return m.opts.Host.Cgroups.Remove(m.cgroupDriver(), rec.CgroupsPath)
}

// StopPodContainers stops every container of a pod (at once: the pod is
// going away), for StopPodSandbox.
func (m *Manager) StopPodContainers(ctx context.Context, sandboxID string) error {
	if err := m.waitCreates(ctx, sandboxID); err != nil {
		return err
	}
	pod := m.ofPod(sandboxID)
	errs := make([]error, len(pod))
	var wg sync.WaitGroup
	for i, c := range pod {
		wg.Go(func() {
			if m.lockOp(c) != nil {
				return // removed meanwhile
			}
			defer c.op.Unlock()
			errs[i] = m.stop(ctx, c, 0)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// RemovePodContainers removes every container of a pod, for
// RemovePodSandbox.
func (m *Manager) RemovePodContainers(ctx context.Context, sandboxID string) error {
	if err := m.waitCreates(ctx, sandboxID); err != nil {
		return err
	}
	var errs []error
	for _, c := range m.ofPod(sandboxID) {
		errs = append(errs, m.Remove(ctx, c.Snapshot().ID))
	}
	return errors.Join(errs...)
}
