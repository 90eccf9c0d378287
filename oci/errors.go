// Package oci drives OCI runtimes (runc, crun) through their command line:
// the configured handlers, their features, the cgroup paths given to them
// and the lowest OOM score they may set.
package oci

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid marks a request naming an unknown runtime handler or a
	// cgroup parent the cgroup driver cannot use.
	ErrInvalid = errors.New("invalid runtime request")
	// ErrNotExist is returned when the runtime does not know the container.
	ErrNotExist = errors.New("container does not exist in the runtime")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
