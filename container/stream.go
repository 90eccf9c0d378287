package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/oci"
)

// Size is a terminal size.
type Size struct{ Width, Height uint16 }

// Streams are the client's ends of a streamed exec or attach. Stdin is nil
// when the client sends none.
type Streams struct {
	Stdin          io.Reader
	Stdout, Stderr io.WriteCloser
	TTY            bool
	Resize         <-chan Size
}

// ExitError carries the exit code of a streamed exec back to the client.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("command exited with code %d", e.Code) }

// Exec runs cmd in the running container with the client's streams (a
// terminal when asked). It returns an *ExitError for a non-zero exit. When
// ctx ends (the client went away) the command is killed.
func (m *Manager) Exec(ctx context.Context, id string, cmd []string, s Streams) error {
	if len(cmd) == 0 {
		return invalidf("exec needs a command")
	}
	rec, err := m.Running(id)
	if err != nil {
		return err
	}
	rt, err := m.opts.Runtimes.Get(rec.Handler)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "berth-exec-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pidFile := filepath.Join(tmp, "pid")
	if s.TTY {
		return execTerminal(ctx, rt, rec.ID, cmd, tmp, s)
	}
	run := rt.ExecCommand(rec.ID, oci.ExecOptions{PidFile: pidFile}, cmd)
	// The client's stdin may stay open after the command ended.
	run.WaitDelay = time.Second
	run.Stdin, run.Stdout, run.Stderr = s.Stdin, s.Stdout, s.Stderr
	if err := run.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		killExec(run, pidFile, done)
		return ctx.Err()
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exitErr):
		return &ExitError{Code: exitErr.ExitCode()}
	}
	return fmt.Errorf("%s exec: %w", rt.Handler, err)
}

// execTerminal runs cmd on a terminal. The runtime only allocates a
// terminal for a detached exec: it sends the master end over a console
// socket and exits, and the command, orphaned, becomes berth's child (berth
// is a subreaper), which berth waits for to get its exit code.
func execTerminal(ctx context.Context, rt *oci.Runtime, id string, cmd []string, tmp string, s Streams) error {
	pidFile := filepath.Join(tmp, "pid")
	sock := filepath.Join(tmp, "console.sock")
	console, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return err
	}
	defer console.Close()
	run := rt.ExecCommand(id, oci.ExecOptions{Detach: true, TTY: true, ConsoleSocket: sock, PidFile: pidFile}, cmd)
	var stderr limitedBuffer
	stderr.max = 4096
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		err := run.Wait()
		if err != nil {
			console.Close() // nothing will connect: end the accept
		}
		done <- err
	}()
	master, err := receiveConsole(console)
	if rerr := <-done; rerr != nil {
		err = rerr
	}
	if err != nil {
		if master != nil {
			master.Close()
		}
		return fmt.Errorf("%s exec: %v: %s", rt.Handler, err, stderr.Bytes())
	}
	defer master.Close()
	pid, err := proc.ReadPidFile(pidFile)
	if err != nil {
		return fmt.Errorf("exec pid: %w", err)
	}
	ioDone := pumpTerminal(master, s)
	exited := make(chan int, 1)
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		exited <- ws.ExitStatus()
	}()
	select {
	case code := <-exited:
		select { // let the last output drain
		case <-ioDone:
		case <-time.After(time.Second):
		}
		if code != 0 {
			return &ExitError{Code: code}
		}
		return nil
	case <-ctx.Done():
		unix.Kill(pid, unix.SIGKILL)
		<-exited
		return ctx.Err()
	}
}

// receiveConsole takes the terminal master the runtime sends over the
// console socket (SCM_RIGHTS).
func receiveConsole(l *net.UnixListener) (*os.File, error) {
	conn, err := l.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, fmt.Errorf("no terminal received: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return nil, fmt.Errorf("no terminal received: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// pumpTerminal copies between the client and the terminal and applies
// resizes; the returned channel closes when the output has drained.
func pumpTerminal(master *os.File, s Streams) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(s.Stdout, master) // ends with EIO when the command exits
	}()
	if s.Stdin != nil {
		go io.Copy(master, s.Stdin)
	}
	if s.Resize != nil {
		go func() {
			for {
				select {
				case size, ok := <-s.Resize:
					if !ok {
						return
					}
					unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: size.Height, Col: size.Width})
				case <-done:
					return
				}
			}
		}()
	}
	return done
}

// Attach connects the client to the container's main process through its
// conmon's attach socket; resizes go through conmon's ctl fifo.
func (m *Manager) Attach(ctx context.Context, id string, s Streams) error {
	rec, err := m.Running(id)
	if err != nil {
		return err
	}
	conn, err := m.opts.Monitor.DialAttach(rec.ID)
	if err != nil {
		return err
	}
	var once sync.Once
	closeConn := func() { once.Do(func() { conn.Close() }) }
	defer closeConn()
	go func() {
		<-ctx.Done()
		closeConn()
	}()
	if s.Resize != nil {
		go func() {
			for size := range s.Resize {
				conmon.Resize(rec.Bundle, size.Width, size.Height)
			}
		}()
	}
	if s.Stdin != nil {
		go func() {
			io.Copy(conn, s.Stdin)
			if rec.Config.StdinOnce {
				conn.CloseStdin()
			}
		}()
	}
	stderr := s.Stderr
	if s.TTY {
		stderr = s.Stdout // a terminal has one stream
	}
	return conn.CopyOutput(nilIfNone(s.Stdout), nilIfNone(stderr))
}

// nilIfNone makes a nil WriteCloser a nil Writer (not a non-nil interface
// holding nil), so CopyOutput drops that stream.
func nilIfNone(w io.WriteCloser) io.Writer {
	if w == nil {
		return nil
	}
	return w
}
