package server

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// logUnary logs every RPC at debug level with its duration. Unexpected
// failures (Internal, Unknown) are logged at error level; expected ones such
// as NotFound stay at debug, since kubelet meets them in normal operation.
func logUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	logCall(info.FullMethod, start, err)
	return resp, err
}

func logStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	logCall(info.FullMethod, start, err)
	return err
}

func logCall(method string, start time.Time, err error) {
	code := status.Code(err)
	rpcDuration.WithLabelValues(method, code.String()).Observe(time.Since(start).Seconds())
	entry := logrus.WithFields(logrus.Fields{"method": method, "duration": time.Since(start), "code": code.String()})
	switch {
	case code == codes.Internal || code == codes.Unknown:
		entry.WithError(err).Error("RPC failed")
	case err != nil:
		entry.WithError(err).Debug("RPC")
	default:
		entry.Debug("RPC")
	}
}
