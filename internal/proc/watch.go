package proc

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Watch says whether one process has exited, without a syscall per
// question: the kernel signals its pidfd when it exits, and one goroutine
// waits on the pidfds of every watched process at once (epoll). A status
// or list call asks Exited, an atomic load, instead of reading
// /proc/<pid>/stat.
type Watch struct {
	id     uint32
	fd     int // the pidfd; -1 once closed
	exited atomic.Bool
	onExit func()
}

// Exited reports whether the process has exited (a zombie has).
func (w *Watch) Exited() bool { return w.exited.Load() }

// Stop ends the watch and closes its pidfd; Exited keeps its last answer.
// It may be called more than once.
func (w *Watch) Stop() {
	exits.mu.Lock()
	defer exits.mu.Unlock()
	exits.closeLocked(w)
}

// exitWatcher is the one epoll all watches share, made by WatchExits.
type exitWatcher struct {
	once sync.Once
	epfd int
	err  error

	mu     sync.Mutex // guards byID and the watches' fds
	byID   map[uint32]*Watch
	lastID uint32
}

var exits exitWatcher

// WatchExits starts the watcher of process exits (once per process: the
// daemon's managers call it at start, so its epoll fd is there from the
// start, not opened by the first container).
func WatchExits() error {
	exits.once.Do(func() {
		exits.epfd, exits.err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if exits.err != nil {
			exits.err = fmt.Errorf("epoll for process exits: %w", exits.err)
			return
		}
		exits.byID = map[uint32]*Watch{}
		go waitExits()
	})
	return exits.err
}

// WatchExit watches the process pid that started at start. onExit, if not
// nil, is run in its own goroutine once the process has exited. A process
// already gone (or a pid recycled) gives a watch that has exited.
func WatchExit(pid int, start uint64, onExit func()) (*Watch, error) {
	if err := WatchExits(); err != nil {
		return nil, err
	}
	w := &Watch{fd: -1, onExit: onExit}
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.ESRCH) {
		w.exit()
		return w, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	// The pid may name another process by now: the pidfd is of whatever
	// holds it, so the start time decides.
	if !Alive(pid, start) {
		unix.Close(fd)
		w.exit()
		return w, nil
	}
	exits.mu.Lock()
	exits.lastID++
	w.id, w.fd = exits.lastID, fd
	exits.byID[w.id] = w
	// A process that exits before this is added is reported at once: the
	// pidfd is readable from its exit on. The ID, not the fd, names the
	// watch in the event, so a closed fd's number reused by a new watch
	// cannot be taken for it.
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(w.id)}
	err = unix.EpollCtl(exits.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	if err != nil {
		exits.closeLocked(w)
	}
	exits.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("epoll add pidfd of %d: %w", pid, err)
	}
	return w, nil
}

func (w *Watch) exit() {
	if w.exited.Swap(true) {
		return
	}
	if w.onExit != nil {
		go w.onExit()
	}
}

// closeLocked takes the watch out of the epoll and closes its pidfd.
func (e *exitWatcher) closeLocked(w *Watch) {
	if w.fd < 0 {
		return
	}
	delete(e.byID, w.id)
	unix.EpollCtl(e.epfd, unix.EPOLL_CTL_DEL, w.fd, nil)
	unix.Close(w.fd)
	w.fd = -1
}

// waitExits runs for the life of the process, marking watches exited as
// the kernel reports their processes' exits.
func waitExits() {
	events := make([]unix.EpollEvent, 64)
	for {
		n, err := unix.EpollWait(exits.epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			logrus.WithError(err).Error("waiting for process exits; statuses fall back to /proc")
			return
		}
		for _, ev := range events[:n] {
			exits.mu.Lock()
			w := exits.byID[uint32(ev.Fd)]
			if w != nil {
				exits.closeLocked(w)
			}
			exits.mu.Unlock()
			if w != nil {
				w.exit()
			}
		}
	}
}
