// Package spec builds a container's OCI runtime spec from berth's plain
// container config, its image's config, its pod and the facts of the host
// (capabilities, cgroup controllers, seccomp and AppArmor support), probed
// once at start-up. It knows nothing of the CRI.
package spec

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid marks a container config berth cannot run.
	ErrInvalid = errors.New("invalid container config")
	// ErrFailedPrecondition marks a config the pod cannot run now (it
	// lacks a namespace its containers must join).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrImageVolumeMountFailed starts the message of an image volume's
	// failure: kubelet counts CreateContainer errors with this text (the
	// CRI's errors.ErrImageVolumeMountFailed) as image volume failures.
	ErrImageVolumeMountFailed = errors.New("ImageVolumeMountFailed")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
