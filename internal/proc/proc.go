// Package proc reads what berth needs to know about a host process from
// /proc, and waits for a process that is not its child to exit.
package proc

import (
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
	StartTime uint64 // clock ticks after boot; with the pid, names one process for good
}

// ReadStat parses /proc/<pid>/stat.
func ReadStat(pid int) (Stat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	// The command name is in parentheses and may hold spaces or ')'.
	s := string(data)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return Stat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return Stat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	ppid, _ := strconv.Atoi(f[1])
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return Stat{}, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return Stat{State: f[0][0], PPID: ppid, StartTime: start}, nil
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
