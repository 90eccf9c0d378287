// Package conmon drives Debian's conmon, the per-container monitor: it
// runs the OCI runtime's create, holds the container's stdio, writes the CRI
// log file, records the exit code in the exit dir, and serves the attach
// socket and the ctl fifo. conmon daemonizes, so containers outlive berth.
package conmon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/metrics"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/reaper"
)

// Monitor is the configured conmon binary.
type Monitor struct {
	Path       string
	LogSizeMax int64 // -1: no limit
	ExitDir    string
	SocketDir  string // attach sockets: <SocketDir>/<id>/attach (kept short for sun_path)
	LogLevel   string
}

// CreateOptions describe one container for conmon.
type CreateOptions struct {
	ID          string
	Name        string
	Bundle      string // holds config.json; conmon's pid files land here too
	PersistDir  string // conmon's "oom" file lands here
	LogPath     string
	Handler     string // the runtime handler, for metrics
	RuntimePath string
	RuntimeArgs []string // global runtime flags (--root ...)
	Terminal    bool
	Stdin       bool
	StdinOnce   bool
}

// Created is what a successful create leaves.
type Created struct {
	Pid       int // the container's init process
	ConmonPid int
}

// createTimeout bounds the runtime's create as seen through conmon.
const createTimeout = 4 * time.Minute

// Create starts conmon, which runs `<runtime> create` and reports the
// container's pid (or the runtime's error) on the sync pipe.
func (m *Monitor) Create(ctx context.Context, o CreateOptions) (Created, error) {
	c, err := m.create(ctx, o)
	var rerr *runtimeError
	switch {
	case errors.As(err, &rerr):
		metrics.RuntimeFailures.WithLabelValues(o.Handler, "create").Inc()
	case err != nil:
		metrics.MonitorFailures.Inc()
	}
	return c, err
}

// runtimeError is the runtime's own create error, as conmon reports it.
type runtimeError struct{ msg string }

func (e *runtimeError) Error() string { return e.msg }

func (m *Monitor) create(ctx context.Context, o CreateOptions) (Created, error) {
	args := []string{
		"--api-version", "1",
		"-b", o.Bundle,
		"-c", o.ID, "-u", o.ID, "-n", o.Name,
		"-r", o.RuntimePath,
		"--exit-dir", m.ExitDir,
		"--socket-dir-path", m.SocketDir,
		"-l", o.LogPath,
		"-P", filepath.Join(o.Bundle, "conmon.pid"),
		"-p", filepath.Join(o.Bundle, "pid"),
		"--persist-dir", o.PersistDir,
		"--log-level", conmonLevel(m.LogLevel),
		"--syslog",
	}
	if m.LogSizeMax > 0 {
		args = append(args, "--log-size-max", strconv.FormatInt(m.LogSizeMax, 10))
	}
	for _, a := range o.RuntimeArgs {
		args = append(args, "--runtime-arg", a)
	}
	if o.Terminal {
		args = append(args, "-t")
	} else if o.Stdin {
		args = append(args, "-i")
		if !o.StdinOnce {
			args = append(args, "--leave-stdin-open")
		}
	}

	syncR, syncW, err := socketPair()
	if err != nil {
		return Created{}, err
	}
	defer syncR.Close()
	startR, startW, err := socketPair()
	if err != nil {
		syncW.Close()
		return Created{}, err
	}
	defer startW.Close()

	cmd := exec.Command(m.Path, args...)
	cmd.Dir = o.Bundle
	cmd.ExtraFiles = []*os.File{syncW, startR}
	cmd.Env = []string{"_OCI_SYNCPIPE=3", "_OCI_STARTPIPE=4", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	// Its own session: a signal to berth's process group never reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	syncW.Close()
	startR.Close()
	if err != nil {
		return Created{}, fmt.Errorf("start conmon: %w", err)
	}
	// conmon waits on the start pipe for its cgroup to be set; berth keeps
	// conmon in its own cgroup, so it says go at once.
	if _, err := startW.Write([]byte{0}); err != nil {
		cmd.Wait()
		return Created{}, fmt.Errorf("conmon start pipe: %w", err)
	}
	// The first conmon process exits once the monitor has daemonized; one
	// that never does is killed, not waited for forever.
	if err := waitFirstProcess(ctx, cmd, firstProcessTimeout); err != nil {
		return Created{}, err
	}
	var raw json.RawMessage
	if err := readJSON(ctx, syncR, createTimeout, &raw); err != nil {
		return Created{}, fmt.Errorf("waiting for the runtime's create through conmon: %w", err)
	}
	logrus.WithField("container", o.ID).Debugf("conmon sync: %s", raw)
	// API version 1: {"data": pid} or {"data": -1, "message": "..."}.
	var msg struct {
		Pid     int    `json:"data"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		return Created{}, fmt.Errorf("conmon sync message %s: %w", raw, err)
	}
	conmonPid, _ := proc.ReadPidFile(filepath.Join(o.Bundle, "conmon.pid"))
	if conmonPid > 0 {
		reaper.Adopt(conmonPid)
	}
	if msg.Pid <= 0 {
		return Created{ConmonPid: conmonPid}, &runtimeError{runtimeMessage(msg.Message)}
	}
	return Created{Pid: msg.Pid, ConmonPid: conmonPid}, nil
}

// firstProcessTimeout bounds how long conmon's first process may take to
// daemonize: it only parses its arguments and forks.
var firstProcessTimeout = 30 * time.Second

// waitFirstProcess waits for conmon's first process to exit, killing it
// when it takes longer than timeout or ctx ends.
func waitFirstProcess(ctx context.Context, cmd *exec.Cmd, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("conmon: %w", err)
		}
		return nil
	case <-t.C:
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("conmon did not daemonize within %s; killed it", timeout)
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("conmon: %w", ctx.Err())
	}
}

// runtimeMessage takes the message out of a runtime's text log line
// (`time=... level=error msg="..."`), which conmon passes on verbatim.
func runtimeMessage(s string) string {
	s = strings.TrimSpace(s)
	i := strings.Index(s, `msg="`)
	if i < 0 {
		return s
	}
	if m, err := strconv.Unquote(s[i+4:]); err == nil {
		return m
	}
	// Unquote needs the closing quote to end the string.
	rest := s[i+4:]
	if j := strings.LastIndex(rest, `"`); j > 0 {
		if m, err := strconv.Unquote(rest[:j+1]); err == nil {
			return m
		}
	}
	return s
}

// conmonLevel maps berth's log level to conmon's (which has no trace/panic).
func conmonLevel(l string) string {
	switch l {
	case "trace", "debug":
		return "debug"
	case "warn", "error":
		return l
	case "fatal", "panic":
		return "error"
	}
	return "info"
}

func socketPair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_LOCAL, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child"), nil
}

// readJSON decodes one JSON message from f, giving up after timeout or ctx.
func readJSON(ctx context.Context, f *os.File, timeout time.Duration, v any) error {
	done := make(chan error, 1)
	go func() { done <- json.NewDecoder(f).Decode(v) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		f.Close()
		return fmt.Errorf("no answer after %s", timeout)
	case <-ctx.Done():
		f.Close()
		return ctx.Err()
	}
}

// Exit is a container's end as conmon recorded it.
type Exit struct {
	Code       int32
	FinishedAt time.Time
	OOMKilled  bool
}

// ReadExit reads the exit file conmon wrote for id; ok is false while the
// container has not exited (or conmon died before writing it).
func (m *Monitor) ReadExit(id, persistDir string) (Exit, bool) {
	path := filepath.Join(m.ExitDir, id)
	data, err := os.ReadFile(path)
	if err != nil {
		return Exit{}, false
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		// Read while conmon was writing it: not there yet.
		return Exit{}, false
	}
	st, err := os.Stat(path)
	if err != nil {
		return Exit{}, false
	}
	_, oomErr := os.Stat(filepath.Join(persistDir, "oom"))
	return Exit{Code: int32(code), FinishedAt: st.ModTime(), OOMKilled: oomErr == nil}, true
}

// RemoveExit deletes the exit file of a removed container.
func (m *Monitor) RemoveExit(id string) error {
	err := os.Remove(filepath.Join(m.ExitDir, id))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// RemoveSocketDir deletes the attach socket link conmon made for id (it is
// left behind when the runtime's create fails).
func (m *Monitor) RemoveSocketDir(id string) error {
	return os.RemoveAll(m.attachLink(id))
}

// ctl message types conmon reads from the ctl fifo.
const (
	ctlResize    = 1
	ctlReopenLog = 2
)

// ReopenLog asks the container's conmon to reopen its log file (kubelet
// renamed it for rotation).
func ReopenLog(bundle string) error {
	return writeCtl(bundle, fmt.Sprintf("%d 0 0\n", ctlReopenLog))
}

// Resize sets the container's terminal size.
func Resize(bundle string, width, height uint16) error {
	return writeCtl(bundle, fmt.Sprintf("%d %d %d\n", ctlResize, height, width))
}

func writeCtl(bundle, msg string) error {
	// O_NONBLOCK: with no conmon reading, fail instead of blocking forever.
	f, err := os.OpenFile(filepath.Join(bundle, "ctl"), os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("open conmon ctl fifo: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(msg); err != nil {
		return fmt.Errorf("write conmon ctl fifo: %w", err)
	}
	logrus.WithField("bundle", bundle).Debugf("conmon ctl: %q", msg)
	return nil
}

// KillHalfCreated kills the monitor of a container whose create never
// finished (berth died while conmon ran the runtime's create), with what it
// started: its process group, which conmon leads in a session of its own.
// The pid comes from the pid file in the bundle and counts only while its
// command line is that container's conmon. No monitor is not an error.
func (m *Monitor) KillHalfCreated(id, bundle string) error {
	pid, err := proc.ReadPidFile(filepath.Join(bundle, "conmon.pid"))
	if err != nil {
		return nil // conmon never got as far as writing it
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !isMonitorOf(cmdline, m.Path, id) {
		return nil
	}
	pgid, err := unix.Getpgid(pid)
	if err != nil || pgid <= 1 || pgid == unix.Getpgrp() {
		return syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill conmon %d of half-created container %s: %w", pid, id, err)
	}
	logrus.WithFields(logrus.Fields{"container": id, "pid": pid}).Info("killed the monitor of a half-created container")
	return nil
}

// isMonitorOf says whether a /proc cmdline is conmon's (path) for
// container id ("-c <id>").
func isMonitorOf(cmdline []byte, path, id string) bool {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) == 0 || filepath.Base(args[0]) != filepath.Base(path) {
		return false
	}
	for i := 1; i+1 < len(args); i++ {
		if args[i] == "-c" && args[i+1] == id {
			return true
		}
	}
	return false
}
