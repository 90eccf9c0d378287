package cni

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/berth-dev/berth/internal/proc"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// KillOrphanPlugins kills the CNI plugins still at work for a sandbox that
// a berth which died started: they run in process groups of their own and
// outlive it, and an ADD finishing after the rollback's DEL would take an
// IP nobody frees. A plugin is known by CNI_CONTAINERID in its environment.
func KillOrphanPlugins(sandboxID string) error {
	want := []byte("CNI_CONTAINERID=" + sandboxID + "\x00")
	var errs []error
	for _, pid := range proc.Others() {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || !bytes.Contains(append([]byte{0}, env...), append([]byte{0}, want...)) {
			continue
		}
		// The plugin leads its group: kill the group (its iptables or
		// other children too), else the process alone.
		target := pid
		if pgid, err := unix.Getpgid(pid); err == nil && pgid == pid {
			target = -pid
		}
		if err := syscall.Kill(target, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill CNI plugin %d of sandbox %s: %w", pid, sandboxID, err))
			continue
		}
		logrus.WithFields(logrus.Fields{"sandbox": sandboxID, "pid": pid}).Info("killed a CNI plugin a previous berth left at work")
	}
	return errors.Join(errs...)
}
