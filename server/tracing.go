package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/trace"
	"github.com/berth-dev/berth/internal/version"
)

// tracing builds the gRPC option that gives every CRI call a span, its
// context taken from the W3C traceparent kubelet sends in the call's
// metadata, and the function that flushes the last spans at shutdown.
// With tracing off there is no option and no cost.
func tracing(cfg config.TracingConfig) ([]grpc.ServerOption, func(context.Context) error, error) {
	if !cfg.Enabled {
		return nil, func(context.Context) error { return nil }, nil
	}
	tp, err := trace.NewTracerProvider(context.Background(), cfg.Endpoint, cfg.SamplingRatePerMillion, version.Release)
	if err != nil {
		return nil, nil, err
	}
	handler := otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
	)
	return []grpc.ServerOption{grpc.StatsHandler(handler)}, tp.Shutdown, nil
}

// recordStart reports the steps of a pod's or container's start: to the
// node-wide step histogram, and as child spans of the call's span, which
// is also labelled with the object's ID. A call that began at began shows
// only the parts of its steps from then on (Steps.Since).
func recordStart(ctx context.Context, h *prometheus.HistogramVec, steps trace.Steps, idKey, id string, began time.Time) {
	observeSteps(h, steps)
	oteltrace.SpanFromContext(ctx).SetAttributes(attribute.String(idKey, id))
	steps.Since(began).Span(ctx)
}
