package conmon

import (
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The attach socket's framing: conmon sends packets of one byte naming the
// stream and up to 8192 bytes of output; stdin is written to it raw.
const (
	attachPacketSize = 8192 + 1
	attachStdout     = 2
	attachStderr     = 3
)

// Attach is a connection to a container's attach socket: Write sends
// stdin to the container's main process, CopyOutput receives its output.
type Attach struct {
	conn *net.UnixConn
}

// DialAttach connects to the attach socket conmon serves for container id.
// Through /proc/self/fd the socket path stays short, whatever the length of
// berth's run dir: a unix socket path must fit in 108 bytes.
func (m *Monitor) DialAttach(id string) (*Attach, error) {
	fd, err := unix.Open(m.attachLink(id), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", id, err)
	}
	defer unix.Close(fd)
	path := fmt.Sprintf("/proc/self/fd/%d/attach", fd)
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", id, err)
	}
	return &Attach{conn: conn}, nil
}

// sunPathMax is the size of a unix socket address's path (Linux).
const sunPathMax = 108

// attachLink is the link to the bundle that conmon makes for id in the
// socket dir, named as conmon names it: when "<socket dir>/<id>" is 107
// bytes long, one byte short of sun_path, conmon drops its last byte (so
// the link cannot be mistaken for a socket path of the same length).
func (m *Monitor) attachLink(id string) string {
	p := filepath.Join(m.SocketDir, id)
	if len(p) == sunPathMax-1 {
		p = p[:sunPathMax-2]
	}
	return p
}

// Write sends bytes to the container's stdin.
func (a *Attach) Write(p []byte) (int, error) { return a.conn.Write(p) }

// CloseStdin closes the container's stdin (for stdin_once).
func (a *Attach) CloseStdin() error { return a.conn.CloseWrite() }

// Close ends the connection; a CopyOutput at work returns.
func (a *Attach) Close() error { return a.conn.Close() }

// CopyOutput writes what the container prints to stdout and stderr (a nil
// one drops its stream) until the container's output ends, the connection
// is closed, or a writer fails (the client went away): those end it
// without an error.
func (a *Attach) CopyOutput(stdout, stderr io.Writer) error {
	buf := make([]byte, attachPacketSize)
	for {
		n, err := a.conn.Read(buf)
		if n > 0 {
			out := stdout
			if buf[0] == attachStderr {
				out = stderr
			}
			if out != nil {
				if _, werr := out.Write(buf[1:n]); werr != nil {
					return nil
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
	}
}
