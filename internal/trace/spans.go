package trace

import (
	"context"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// Span adds the finished steps to the span of ctx (the CRI call's) as
// child spans with the steps' own start and end times: the trace of a
// RunPodSandbox shows its netns, CNI and pause steps. Steps are recorded
// once, for the verbose status, and replayed here only when the call is
// being traced.
func (s Steps) Span(ctx context.Context) {
	parent := oteltrace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return
	}
	tracer := parent.TracerProvider().Tracer("github.com/berth-dev/berth")
	for _, st := range s {
		if st.End.IsZero() {
			continue
		}
		_, span := tracer.Start(ctx, st.Name, oteltrace.WithTimestamp(st.Start))
		span.End(oteltrace.WithTimestamp(st.End))
	}
}
