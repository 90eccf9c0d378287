package server

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A pull counts under its result: ok with its bytes, or its failure's code.
func TestObservePull(t *testing.T) {
	ok, notFound := testutil.ToFloat64(imagePulls.WithLabelValues("ok")), testutil.ToFloat64(imagePulls.WithLabelValues("NotFound"))
	bytes := testutil.ToFloat64(imagePullBytes)
	observePull(1000, time.Now(), nil)
	observePull(0, time.Now(), status.Error(codes.NotFound, "no such image"))
	if got := testutil.ToFloat64(imagePulls.WithLabelValues("ok")) - ok; got != 1 {
		t.Errorf("ok pulls rose by %v, want 1", got)
	}
	if got := testutil.ToFloat64(imagePulls.WithLabelValues("NotFound")) - notFound; got != 1 {
		t.Errorf("NotFound pulls rose by %v, want 1", got)
	}
	if got := testutil.ToFloat64(imagePullBytes) - bytes; got != 1000 {
		t.Errorf("pulled bytes rose by %v, want 1000", got)
	}
}
