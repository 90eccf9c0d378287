// Package proc reads what berth needs to know about a host process from
// /proc, and waits for a process that is not its child to exit.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Stat is the part of /proc/<pid>/stat berth uses.
type Stat struct {
	State     byte   // R, S, D, Z, ...
	PPID      int    // parent
	Flags     uint64 // the kernel's task flags (PF_*)
	StartTime uint64 // clock ticks after boot; with the pid, names one process for good
}

// pfKthread is the kernel's PF_KTHREAD task flag.
const pfKthread = 0x00200000

// KernelThread says whether the process is one of the kernel's threads.
func (s Stat) KernelThread() bool { return s.Flags&pfKthread != 0 }

// ReadStat parses /proc/<pid>/stat. It allocates only the path (and the
// copy the open call makes of it): the reaper and container creates and
// stops read it, and with hundreds of pods the garbage of reading the
// whole file and splitting it into fields was most of what the daemon
// allocated.
func ReadStat(pid int) (Stat, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Stat{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	// Fields 1 to 22 fit in far less than this: a pid, a command name of
	// at most 64 bytes and twenty numbers.
	var buf [1024]byte
	n, err := readFull(fd, buf[:])
	unix.Close(fd)
	if err != nil {
		return Stat{}, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return parseStat(pid, buf[:n])
}

func readFull(fd int, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// parseStat reads the state (field 3), the parent (4), the flags (9) and
// the start time (22) from the text of /proc/<pid>/stat.
func parseStat(pid int, data []byte) (Stat, error) {
	// The command name is in parentheses and may hold spaces or ')'.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return Stat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	var st Stat
	rest := data[end+1:]
	for field := 3; field <= 22; field++ {
		rest = bytes.TrimLeft(rest, " \n")
		i := bytes.IndexAny(rest, " \n")
		if i < 0 {
			i = len(rest)
		}
		f := rest[:i]
		rest = rest[i:]
		if len(f) == 0 {
			return Stat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, field-1)
		}
		switch field {
		case 3:
			st.State = f[0]
		case 4:
			st.PPID, _ = strconv.Atoi(string(f)) // no allocation: the conversion is not kept
		case 9:
			st.Flags, _ = strconv.ParseUint(string(f), 10, 64)
		case 22:
			start, err := strconv.ParseUint(string(f), 10, 64)
			if err != nil {
				return Stat{}, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
			}
			st.StartTime = start
		}
	}
	return st, nil
}

// Alive reports whether the process pid that started at start still runs
// (a zombie counts as dead; a recycled pid is another process).
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := ReadStat(pid)
	return err == nil && st.State != 'Z' && st.StartTime == start
}

// WaitExit waits until the process pid (started at start) has exited, or ctx
// ends. It works for processes that are not berth's children.
func WaitExit(ctx context.Context, pid int, start uint64) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil
		}
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	// The pid may have been recycled before the pidfd was opened.
	if !Alive(pid, start) {
		return nil
	}
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll pidfd %d: %w", pid, err)
		}
		if n > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
	}
}

// ReadPidFile reads a pid file as runtimes and conmon write it.
func ReadPidFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// Others lists the pids of every process but this one, from /proc.
func Others() []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	self := os.Getpid()
	out := make([]int, 0, len(dirs))
	for _, d := range dirs {
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil && pid != self {
			out = append(out, pid)
		}
	}
	return out
}
