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
	"syscall"
	"time"

	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/internal/ids"
	"github.com/berth-dev/berth/oci"
)

// execOutputMax bounds what ExecSync keeps of each output stream.
const execOutputMax = 16 << 20

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
	stdout, stderr := &limitedBuffer{max: execOutputMax}, &limitedBuffer{max: execOutputMax}
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
