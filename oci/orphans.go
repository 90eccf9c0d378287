package oci

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/berth-dev/berth/internal/proc"
	"github.com/sirupsen/logrus"
)

// KillOrphans kills the runtime's commands still at work on container id
// that a berth which died started (a `create` outliving it would make the
// container after the rollback deleted it). They are known by their
// command line: this runtime's binary with id among its arguments.
func (r *Runtime) KillOrphans(id string) error {
	var errs []error
	for _, pid := range proc.Others() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if len(args) < 2 || args[0] != r.Path || !slices.Contains(args[1:], id) {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill %s %d working on %s: %w", r.Handler, pid, id, err))
			continue
		}
		logrus.WithFields(logrus.Fields{"container": id, "pid": pid, "args": args[1:]}).Info("killed a runtime command a previous berth left at work")
	}
	return errors.Join(errs...)
}
