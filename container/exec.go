package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/internal/ids"
	"github.com/berth-dev/berth/oci"
)

// execOutputMax bounds what ExecSync keeps of its output, both streams
// together: the reply must fit the 16 MiB message limit of kubelet's and
// crictl's CRI clients, with room for the rest of the message.
const execOutputMax = 16<<20 - 64<<10

// ExecResult is what a command run by ExecSync did.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int32
}

// ExecSync runs cmd in the running container (its namespaces, cgroup, user
// and environment, as the runtime's exec does) and waits for it. When
// timeout (if non-zero) passes or ctx ends, the command is killed.
func (m *Manager) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (ExecResult, error) {
	if len(cmd) == 0 {
		return ExecResult{}, invalidf("exec needs a command")
	}
	rec, err := m.Running(id)
	if err != nil {
		return ExecResult{}, err
	}
	rt, err := m.opts.Runtimes.Get(rec.Handler)
	if err != nil {
		return ExecResult{}, err
	}
	pidFile := filepath.Join(rec.Bundle, "exec-"+ids.New()[:16]+".pid")
	defer os.Remove(pidFile)
	run := rt.ExecCommand(rec.ID, oci.ExecOptions{PidFile: pidFile}, cmd)
	out := &outputBudget{room: execOutputMax}
	stdout, stderr := out.stream(), out.stream()
	run.Stdout, run.Stderr = stdout, stderr
	if err := run.Start(); err != nil {
		return ExecResult{}, err
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case err = <-done:
	case <-expired:
		killExec(run, pidFile, done)
		return ExecResult{}, fmt.Errorf("command %q %w after %s", strings.Join(cmd, " "), ErrTimeout, timeout)
	case <-ctx.Done():
		killExec(run, pidFile, done)
		return ExecResult{}, ctx.Err()
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return ExecResult{}, fmt.Errorf("%s exec: %w", rt.Handler, err)
	}
	if dropped := out.dropped(); dropped > 0 {
		logrus.WithFields(logrus.Fields{"container": rec.ID, "dropped_bytes": dropped}).
			Warnf("ExecSync output truncated to %d bytes (stdout and stderr together), the CRI message limit", execOutputMax)
	}
	return ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: int32(run.ProcessState.ExitCode())}, nil
}

// killExec kills the command in the container (its pid is in pidFile once
// the runtime started it) and waits for the runtime's exec to reap it and
// exit. Killing the runtime first would orphan the command into the
// container, whose init may never reap it.
func killExec(run *exec.Cmd, pidFile string, done <-chan error) {
	// The runtime writes the pid file once the command exists; a client may
	// go away before that, and the command must not be left behind.
	deadline := time.Now().Add(execKillGrace)
	for {
		if data, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
				break
			}
		}
		select {
		case <-done:
			return // the runtime's exec ended, and its command with it
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			break
		}
	}
	select {
	case <-done:
	case <-time.After(execKillGrace):
		run.Process.Kill()
		<-done
	}
}

// execKillGrace is how long the runtime's exec gets to exit after its
// command was killed.
const execKillGrace = 5 * time.Second

// outputBudget is the room left for the output streams of one command,
// shared: each stream keeps what it writes while there is room.
type outputBudget struct {
	mu   sync.Mutex
	room int
	lost int // bytes written past the room
}

// stream returns a writer that keeps bytes from the budget.
func (b *outputBudget) stream() *budgetBuffer { return &budgetBuffer{budget: b} }

// dropped is how many bytes the streams wrote past the room.
func (b *outputBudget) dropped() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lost
}

// budgetBuffer is one stream of an outputBudget.
type budgetBuffer struct {
	budget *outputBudget
	buf    []byte
}

func (w *budgetBuffer) Write(p []byte) (int, error) {
	b := w.budget
	b.mu.Lock()
	keep := min(b.room, len(p))
	b.room -= keep
	b.lost += len(p) - keep
	b.mu.Unlock()
	w.buf = append(w.buf, p[:keep]...)
	return len(p), nil
}

func (w *budgetBuffer) Bytes() []byte { return w.buf }

// limitedBuffer keeps the first max bytes written and drops the rest.
type limitedBuffer struct {
	buf []byte
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte { return b.buf }

// ReopenLog makes the container's conmon reopen its log file, after kubelet
// rotated it.
func (m *Manager) ReopenLog(id string) error {
	rec, err := m.Running(id)
	if err != nil {
		return err
	}
	if err := conmon.ReopenLog(rec.Bundle); err != nil {
		return err
	}
	// kubelet expects the new file once the call returns.
	deadline := time.Now().Add(reopenWait)
	for {
		if _, err := os.Stat(rec.LogPath); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("conmon did not reopen %s within %s", rec.LogPath, reopenWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reopenWait bounds how long ReopenLog waits for conmon's new log file.
const reopenWait = 5 * time.Second
