// Package container runs a node's containers: it creates them (rootfs,
// image volumes, spec, conmon and the OCI runtime), starts, stops, removes,
// execs into and attaches to them, reads their stats, and keeps a record of
// each that survives a restart of berth.
package container

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid marks a container config or request berth cannot run.
	ErrInvalid = errors.New("invalid container request")
	// ErrNotFound is returned for an unknown container ID.
	ErrNotFound = errors.New("container not found")
	// ErrNotRunning is returned when an operation needs a running container.
	ErrNotRunning = errors.New("container is not running")
	// ErrFailedPrecondition marks an operation the container's state forbids.
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrTimeout is returned when an ExecSync command outlives its timeout.
	ErrTimeout = errors.New("timed out")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
