package trace

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestStepsBecomeChildSpansWithTheirOwnTimes(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, call := tp.Tracer("test").Start(context.Background(), "RunPodSandbox")

	t0 := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	steps := Steps{
		{Name: "netns", Start: t0, End: t0.Add(3 * time.Millisecond)},
		{Name: "cni", Start: t0.Add(3 * time.Millisecond), End: t0.Add(16 * time.Millisecond)},
		{Name: "pause start", Start: t0.Add(16 * time.Millisecond)}, // never finished
	}
	steps.Span(ctx)
	call.End()

	spans := rec.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans ended, want the 2 finished steps and the call", len(spans))
	}
	for i, want := range steps[:2] {
		got := spans[i]
		if got.Name() != want.Name || !got.StartTime().Equal(want.Start) || !got.EndTime().Equal(want.End) {
			t.Errorf("span %d = %s %v..%v, want %s %v..%v", i, got.Name(), got.StartTime(), got.EndTime(), want.Name, want.Start, want.End)
		}
		if got.Parent().SpanID() != call.SpanContext().SpanID() || got.SpanContext().TraceID() != call.SpanContext().TraceID() {
			t.Errorf("span %s is not a child of the call's span", got.Name())
		}
	}
}

func TestStepsOfAnUntracedCallMakeNoSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.NeverSample()))
	ctx, call := tp.Tracer("test").Start(context.Background(), "RunPodSandbox")
	now := time.Now()
	Steps{{Name: "netns", Start: now, End: now.Add(time.Millisecond)}}.Span(ctx)
	Steps{{Name: "netns", Start: now, End: now.Add(time.Millisecond)}}.Span(context.Background())
	call.End()
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("%d spans recorded for an unsampled call", n)
	}
}
