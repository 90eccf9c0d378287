package server

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	crierrors "k8s.io/cri-api/pkg/errors"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/oci"
	"github.com/berth-dev/berth/sandbox"
	"github.com/berth-dev/berth/spec"
)

// TestToStatus checks each error the packages below return maps to the
// code a kubelet or crictl user acts on, with the message kept.
func TestToStatus(t *testing.T) {
	tests := []struct {
		err  error
		code codes.Code
	}{
		{fmt.Errorf("create: %w", container.ErrInvalid), codes.InvalidArgument},
		{fmt.Errorf("spec: %w", spec.ErrInvalid), codes.InvalidArgument},
		{fmt.Errorf("run: %w", oci.ErrInvalid), codes.InvalidArgument},
		{fmt.Errorf("create: %w", spec.ErrFailedPrecondition), codes.FailedPrecondition},
		{fmt.Errorf("run: %w", sandbox.ErrInvalid), codes.InvalidArgument},
		{fmt.Errorf("pull: %w", image.ErrInvalidReference), codes.InvalidArgument},
		{fmt.Errorf("x: %w", container.ErrNotFound), codes.NotFound},
		{fmt.Errorf("x: %w", sandbox.ErrNotFound), codes.NotFound},
		{fmt.Errorf("x: %w", image.ErrNotFound), codes.NotFound},
		{fmt.Errorf("exec: %w", container.ErrNotRunning), codes.FailedPrecondition},
		{fmt.Errorf("start: %w", container.ErrFailedPrecondition), codes.FailedPrecondition},
		{fmt.Errorf("remove: %w", image.ErrInUse), codes.FailedPrecondition},
		{fmt.Errorf("exec: %w", container.ErrTimeout), codes.DeadlineExceeded},
		{fmt.Errorf("cni: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{fmt.Errorf("pull: %w", image.ErrNoProgress), codes.DeadlineExceeded},
		{fmt.Errorf("pull: %w", image.ErrBlocked), codes.PermissionDenied},
		{fmt.Errorf("pull: registry r: %w: hosts.toml: bad", image.ErrRegistryConfig), codes.FailedPrecondition},
		{fmt.Errorf("pull: %w: the image has 900 layers", image.ErrTooLarge), codes.ResourceExhausted},
		{fmt.Errorf("unpack layer: %w", &fs.PathError{Op: "write", Path: "/var/lib/berth/images/x", Err: syscall.ENOSPC}), codes.ResourceExhausted},
		{fmt.Errorf("runc create: write state.json: no space left on device"), codes.ResourceExhausted},
		{fmt.Errorf("x: %w", context.Canceled), codes.Canceled},
		{fmt.Errorf("runc create: something else"), codes.Unknown},
		// Image volumes: the image's code, kubelet's prefix first.
		{fmt.Errorf("%w: image volume at \"/vol\": %w", crierrors.ErrImageVolumeMountFailed, image.ErrNotFound), codes.NotFound},
		{fmt.Errorf("%w: %w", crierrors.ErrImageVolumeMountFailed, container.ErrInvalid), codes.InvalidArgument},
		{spec.ImageVolumeErr(image.ErrNotFound), codes.NotFound},
	}
	for _, tt := range tests {
		err := toStatus(tt.err)
		wantCode(t, err, tt.code)
		if got := status.Convert(err).Message(); got != tt.err.Error() {
			t.Errorf("toStatus(%v) changed the message: %q", tt.err, got)
		}
	}
	if toStatus(nil) != nil {
		t.Error("toStatus(nil) must be nil")
	}
}

// kubelet counts CreateContainer errors that start with the CRI's
// ImageVolumeMountFailed as image volume failures; spec, which knows
// nothing of the CRI, must spell it the same.
func TestImageVolumeErrorPrefix(t *testing.T) {
	if spec.ErrImageVolumeMountFailed.Error() != crierrors.ErrImageVolumeMountFailed.Error() {
		t.Fatalf("spec's %q is not the CRI's %q", spec.ErrImageVolumeMountFailed, crierrors.ErrImageVolumeMountFailed)
	}
	err := toStatus(spec.ImageVolumeErr(image.ErrNotFound))
	if msg := status.Convert(err).Message(); !strings.HasPrefix(msg, crierrors.ErrImageVolumeMountFailed.Error()) {
		t.Errorf("message %q does not start with kubelet's prefix", msg)
	}
}
