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
package reaper

import (
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/proc"
)

// staleAfter is how long an unknown zombie child is left for its exec.Cmd's
// Wait before the reaper takes it.
const staleAfter = 3 * time.Second

var (
	mu      sync.Mutex
	adopted = map[int]bool{}
	zombies = map[int]time.Time{} // unknown zombie children: when first seen
	wake    = make(chan struct{}, 1)
)

// Start makes this process a child subreaper and reaps in the background.
func Start() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return err
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGCHLD)
	go func() {
		tick := time.NewTicker(staleAfter)
		for {
			select {
			case <-sigs:
			case <-wake:
			case <-tick.C:
			}
			reap()
		}
	}()
	return nil
}

// Adopt marks pid as an orphan berth reaps when it exits (a process berth
// did not start with exec.Cmd but that became its child).
func Adopt(pid int) {
	mu.Lock()
	adopted[pid] = true
	mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
}

func reap() {
	children := childPIDs()
	mu.Lock()
	defer mu.Unlock()
	now := time.Now()
	live := map[int]bool{}
	for _, pid := range children {
		live[pid] = true
		if !isZombie(pid) {
			continue
		}
		first, seen := zombies[pid]
		if !adopted[pid] && (!seen || now.Sub(first) < staleAfter) {
			if !seen {
				zombies[pid] = now
			}
			continue
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); err == nil {
			delete(adopted, pid)
			delete(zombies, pid)
			logrus.WithField("pid", pid).Debug("reaped orphan")
		}
	}
	// Forget pids that are no longer our children (reaped by a Wait, or gone).
	for pid := range zombies {
		if !live[pid] {
			delete(zombies, pid)
		}
	}
	for pid := range adopted {
		if !live[pid] {
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
				delete(adopted, pid)
			}
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

func isZombie(pid int) bool {
	st, err := proc.ReadStat(pid)
	return err == nil && st.State == 'Z'
}
