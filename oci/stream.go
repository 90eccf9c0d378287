package oci

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
	rt, err := m.runtime(rec.Handler)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "berth-exec-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pidFile := filepath.Join(tmp, "pid")
	args := append(rt.globalArgs(), "exec", "--pid-file", pidFile)

	if s.TTY {
		return m.execTerminal(ctx, rt, rec.ID, cmd, tmp, s)
	}
	run := exec.Command(rt.Path, append(append(args, rec.ID), cmd...)...)
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
func (m *Manager) execTerminal(ctx context.Context, rt *Runtime, id string, cmd []string, tmp string, s Streams) error {
	pidFile := filepath.Join(tmp, "pid")
	sock := filepath.Join(tmp, "console.sock")
	console, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return err
	}
	defer console.Close()
	args := append(rt.globalArgs(), "exec", "--detach", "--tty", "--console-socket", sock, "--pid-file", pidFile, id)
	run := exec.Command(rt.Path, append(args, cmd...)...)
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
func (m *Manager) Attach(ctx context.Context, id string, stdinOnce bool, s Streams) error {
	rec, err := m.Running(id)
	if err != nil {
		return err
	}
	conn, err := dialAttach(filepath.Join(m.opts.Monitor.SocketDir, rec.ID))
	if err != nil {
		return fmt.Errorf("attach to %s: %w", rec.ID, err)
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
			if stdinOnce {
				conn.CloseWrite()
			}
		}()
	}
	// Each packet is one byte naming the stream, then the bytes.
	buf := make([]byte, conmon.AttachPacketSize)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			out := s.Stdout
			if buf[0] == conmon.AttachStderr && !s.TTY {
				out = s.Stderr
			}
			if out != nil {
				if _, werr := out.Write(buf[1:n]); werr != nil {
					return nil // the client went away
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
	}
}

// dialAttach dials conmon's attach socket in dir. Through /proc/self/fd the
// socket path stays short, whatever the length of berth's run dir: a unix
// socket path must fit in 108 bytes.
func dialAttach(dir string) (*net.UnixConn, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	path := fmt.Sprintf("/proc/self/fd/%d/attach", fd)
	return net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
}
