// Package sandbox runs pod sandboxes: the pinned network namespace, CNI, the
// pause process holding the pod's other namespaces, the pod's hostname,
// hosts, resolv.conf and /dev/shm, and the record that lets berth find all of
// it again after a restart.
package sandbox

import (
	"errors"
	"fmt"
)

// Errors callers map to status codes.
var (
	ErrInvalid  = errors.New("invalid sandbox config")
	ErrNotFound = errors.New("pod sandbox not found")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
