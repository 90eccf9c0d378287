//go:build integration

package integration

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	otlptrace "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// collector is an OTLP/gRPC trace collector that keeps what it is sent.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*otlptrace.Span
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (c *collector) received() []*otlptrace.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.spans)
}

func startCollector(t *testing.T) (*collector, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, c)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	return c, l.Addr().String()
}

// With tracing on and sampling at 0, berth traces exactly the calls kubelet
// traces: RunPodSandbox, CreateContainer and StartContainer sent with a
// sampled W3C traceparent become spans in kubelet's trace, each with its
// start steps as child spans at their own times; a call without a
// traceparent is not traced.
func TestCallsInKubeletsTraceAreTracedWithTheirSteps(t *testing.T) {
	col, endpoint := startCollector(t)
	f := newContainerFixtureWith(t, "berth-it-tracing", "berthittrace", "10.124.32.0/24",
		fmt.Sprintf("[tracing]\nenabled = true\nendpoint = %q\nsampling_rate_per_million = 0\n", endpoint))

	if _, err := f.b.Runtime().ListPodSandbox(ctx(t), &runtimeapi.ListPodSandboxRequest{}); err != nil {
		t.Fatal(err)
	}
	const traceID, kubeletSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	traced := metadata.AppendToOutgoingContext(slowCtx(t), "traceparent", "00-"+traceID+"-"+kubeletSpan+"-01")
	cfg := podConfig("tracing", f.parent)
	id, err := f.tryRunPod(traced, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := f.describePod(t, id, cfg)
	ctr, err := tryRunContainer(traced, f.b, p, containerConfig("traced", "sleep", "60"))
	if err != nil {
		t.Fatal(err)
	}

	calls := map[string][]string{
		"runtime.v1.RuntimeService/RunPodSandbox":   {"namespaces", "cni", "files"},
		"runtime.v1.RuntimeService/CreateContainer": {"rootfs", "spec"},
		"runtime.v1.RuntimeService/StartContainer":  {"runtime start"},
	}
	// berth exports its spans in batches: wait for all of them.
	var spans []*otlptrace.Span
	waitFor(t, time.Minute, func() bool {
		spans = col.received()
		n := 0
		for _, steps := range calls {
			n += 1 + len(steps)
		}
		return len(spans) >= n
	})
	for _, s := range spans {
		if s.GetName() == "runtime.v1.RuntimeService/ListPodSandbox" {
			t.Error("a call kubelet did not trace was traced at a sampling rate of 0")
		}
	}
	find := func(name string, parent []byte) *otlptrace.Span {
		t.Helper()
		for _, s := range spans {
			if s.GetName() == name && string(s.GetParentSpanId()) == string(parent) {
				return s
			}
		}
		t.Fatalf("no span %q with parent %x among %d spans", name, parent, len(spans))
		return nil
	}
	kubeletParent, _ := hex.DecodeString(kubeletSpan)
	for call, steps := range calls {
		rpc := find(call, kubeletParent)
		if got := hex.EncodeToString(rpc.GetTraceId()); got != traceID {
			t.Errorf("%s is in trace %s, want kubelet's %s", call, got, traceID)
		}
		wantID := map[bool]string{true: id, false: ctr}[call == "runtime.v1.RuntimeService/RunPodSandbox"]
		if !hasAttribute(rpc, wantID) {
			t.Errorf("%s's span does not name its object %s: %v", call, wantID, rpc.GetAttributes())
		}
		for _, step := range steps {
			s := find(step, rpc.GetSpanId())
			if s.GetStartTimeUnixNano() < rpc.GetStartTimeUnixNano() || s.GetEndTimeUnixNano() > rpc.GetEndTimeUnixNano() || s.GetEndTimeUnixNano() < s.GetStartTimeUnixNano() {
				t.Errorf("step %s of %s is not within the call", step, call)
			}
		}
	}
	// The runtime's create goes on after CreateContainer returns:
	// StartContainer's span shows the part it waited for, within the call
	// (none if the create had ended before the call came).
	start := find("runtime.v1.RuntimeService/StartContainer", kubeletParent)
	for _, s := range spans {
		if s.GetName() != "runtime create" {
			continue
		}
		if string(s.GetParentSpanId()) != string(start.GetSpanId()) {
			t.Errorf("the runtime create step is a span of %x, want StartContainer's %x", s.GetParentSpanId(), start.GetSpanId())
		} else if s.GetStartTimeUnixNano() < start.GetStartTimeUnixNano() || s.GetEndTimeUnixNano() > start.GetEndTimeUnixNano() {
			t.Error("the part of the runtime create StartContainer waited for is not within the call")
		}
	}
	f.removeAll(t, p, ctr)
}

func hasAttribute(s *otlptrace.Span, value string) bool {
	for _, kv := range s.GetAttributes() {
		if kv.GetValue().GetStringValue() == value {
			return true
		}
	}
	return false
}
