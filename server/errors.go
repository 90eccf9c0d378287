package server

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/fsutil"
	"github.com/berth-dev/berth/oci"
	"github.com/berth-dev/berth/sandbox"
	"github.com/berth-dev/berth/spec"
)

// toStatus turns an error of the packages below into a gRPC status, keeping
// its message: the person reading it needs the details.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, image.ErrNoProgress), errors.Is(err, container.ErrTimeout):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, image.ErrInvalidReference), errors.Is(err, sandbox.ErrInvalid), errors.Is(err, container.ErrInvalid),
		errors.Is(err, spec.ErrInvalid), errors.Is(err, oci.ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, image.ErrNotFound), errors.Is(err, sandbox.ErrNotFound), errors.Is(err, container.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, container.ErrNotRunning), errors.Is(err, container.ErrFailedPrecondition),
		errors.Is(err, spec.ErrFailedPrecondition), errors.Is(err, image.ErrInUse), errors.Is(err, image.ErrRegistryConfig):
		code = codes.FailedPrecondition
	case errors.Is(err, image.ErrBlocked):
		code = codes.PermissionDenied
	case errors.Is(err, image.ErrTooLarge), fsutil.NoSpace(err):
		// A full disk is one of the exhausted resources gRPC names.
		code = codes.ResourceExhausted
	}
	return status.Error(code, err.Error())
}

// An empty ID names nothing: it is the caller's mistake (InvalidArgument),
// not an object that is not there (NotFound).
var (
	errNoContainerID = invalid("container ID is required")
	errNoSandboxID   = invalid("pod sandbox ID is required")
)

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
