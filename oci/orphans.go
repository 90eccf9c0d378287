package oci

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
)

// KillOrphans kills the runtime's commands still at work on container id
// that a berth which died started (a `create` outliving it would make the
// container after the rollback deleted it). They are known by their
// command line: this runtime's binary with id among its arguments.
func (r *Runtime) KillOrphans(id string) error {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var errs []error
	for _, path := range cmdlines {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile(path)
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
