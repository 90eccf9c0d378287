// Package reaper makes berth a child subreaper and reaps the orphans that
// land on it: pause processes whose `runc create` parent has exited,
// double-forked monitors, and anything else re-parented to berth.
//
// Why berth and not init: on some hosts init reaps orphans only every second
// or two, and a dead process that stays a zombie looks alive to anything that
// checks /proc. As a subreaper berth sees them die at once.
//
// Berth's own exec.Cmd children must be left to their Wait calls, so the
// reaper never calls wait(-1). It reaps a zombie child only when its pid was
// handed to Adopt, or when it has stayed a zombie for longer than any Wait
// takes to run (a child nobody waits for).
//
// The cost does not grow with the pods: an adopted process is watched by
// its pidfd and reaped when it exits, and the scan of berth's children for
// zombies nobody adopted runs on a slow tick, and only when the kernel says
// a zombie child exists. (Scanning on every SIGCHLD, as a first version
// did, read the stat file of every monitor each time any runc or CNI
// plugin exited: with 250 pods, most of what the daemon allocated.)
package reaper

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/proc"
)

// staleAfter is how long an unknown zombie child is left for its exec.Cmd's
// Wait before the reaper takes it; the scan for such zombies runs this often.
var staleAfter = 3 * time.Second

var (
	mu sync.Mutex
	// adopted are the pids handed to Adopt that have not been reaped.
	adopted = map[int]bool{}
	zombies = map[int]time.Time{} // unknown zombie children: when first seen
)

// Start makes this process a child subreaper and reaps in the background.
func Start() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return err
	}
	if err := proc.WatchExits(); err != nil {
		return err
	}
	go func() {
		for range time.Tick(staleAfter) {
			if zombieChild() {
				reapStale()
			}
		}
	}()
	return nil
}

// Adopt marks pid, a child of berth that berth did not start with exec.Cmd
// (re-parented to it, or started and released), as one berth reaps when it
// exits. Any other pid is left to its parent.
func Adopt(pid int) {
	st, err := proc.ReadStat(pid)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			// Not gone: this thread cannot see it (a thread in another
			// mount namespace has another /proc, or none).
			logrus.WithError(err).WithField("pid", pid).Warn("orphan not adopted; the reaper's scan takes it once it exits")
		}
		return
	}
	if st.PPID != os.Getpid() {
		return
	}
	mu.Lock()
	adopted[pid] = true
	mu.Unlock()
	if _, err := proc.WatchExit(pid, st.StartTime, func() { reapAdopted(pid) }); err != nil {
		// Not watched: the tick's scan reaps it once it is a zombie.
		logrus.WithError(err).WithField("pid", pid).Debug("adopted process not watched")
	}
}

// reapAdopted reaps an adopted process that has exited.
func reapAdopted(pid int) {
	mu.Lock()
	defer mu.Unlock()
	if adopted[pid] {
		reapLocked(pid)
	}
}

// reapLocked waits for pid without blocking; a pid berth cannot wait for
// (reaped by someone else) is forgotten.
func reapLocked(pid int) {
	var ws unix.WaitStatus
	got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	switch {
	case err == nil && got == pid:
		logrus.WithField("pid", pid).Debug("reaped orphan")
		fallthrough
	case errors.Is(err, unix.ECHILD):
		delete(adopted, pid)
		delete(zombies, pid)
	}
}

// zombieChild reports whether any child of berth is a zombie, without
// reaping it (WNOWAIT): one syscall instead of a scan.
func zombieChild() bool {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT|unix.WALL, nil)
	// With WNOHANG and no zombie, waitid succeeds and leaves the pid 0.
	return err == nil && siginfoPid(&info) != 0
}

// reapStale scans berth's children for zombies: adopted ones are reaped,
// unknown ones once they have stayed zombies for staleAfter.
func reapStale() {
	children := childPIDs()
	mu.Lock()
	defer mu.Unlock()
	now := time.Now()
	live := make(map[int]bool, len(children))
	for _, pid := range children {
		live[pid] = true
		if st, err := proc.ReadStat(pid); err != nil || st.State != 'Z' {
			continue
		}
		first, seen := zombies[pid]
		if !adopted[pid] && (!seen || now.Sub(first) < staleAfter) {
			if !seen {
				zombies[pid] = now
			}
			continue
		}
		reapLocked(pid)
	}
	// Forget pids that are no longer our children (reaped by a Wait, or gone).
	for pid := range zombies {
		if !live[pid] {
			delete(zombies, pid)
		}
	}
}

// childPIDs lists this process's children from /proc/self/task/*/children.
func childPIDs() []int {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []int
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// siginfoPid is si_pid of a SIGCHLD siginfo: the first field of the union
// after signo, errno and code (and padding to 8 bytes), as the kernel lays
// it out on 64-bit Linux.
func siginfoPid(info *unix.Siginfo) int32 {
	return *(*int32)(unsafe.Add(unsafe.Pointer(info), 16))
}
