package trace

import (
	"context"
	"fmt"
	"sync"

	"github.com/sirupsen/logrus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// NewTracerProvider returns the OpenTelemetry tracer provider that sends berth's
// spans to the OTLP/gRPC collector at endpoint (plain text: collectors
// are reached on the node). A call in a trace its caller sampled is always
// traced; a call that starts a trace is sampled at ratePerMillion.
//
// The exporter connects lazily: a collector that is down costs a warning,
// never a CRI call. Shut the provider down to flush the last spans.
func NewTracerProvider(ctx context.Context, endpoint string, ratePerMillion int, version string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter for %s: %w", endpoint, err)
	}
	res := resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName("berth"), semconv.ServiceVersion(version))
	otel.SetErrorHandler(&exportErrors{})
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(float64(ratePerMillion)/1e6))),
	), nil
}

// exportErrors logs OpenTelemetry's errors (mostly a collector that cannot
// be reached) once at warning level each, then at debug: a collector down
// for an hour must not fill the log with one line per batch.
type exportErrors struct {
	mu   sync.Mutex
	last string
}

func (e *exportErrors) Handle(err error) {
	e.mu.Lock()
	repeated := err.Error() == e.last
	e.last = err.Error()
	e.mu.Unlock()
	entry := logrus.WithError(err)
	if repeated {
		entry.Debug("tracing: exporting spans")
		return
	}
	entry.Warn("tracing: exporting spans")
}
