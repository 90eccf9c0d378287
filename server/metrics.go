package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/berth-dev/berth/internal/trace"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"
)

// rpcDuration counts and times every CRI call by method and status code.
var rpcDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "berth_cri_request_duration_seconds",
	Help:    "Duration of CRI gRPC calls by method and status code.",
	Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
}, []string{"method", "code"})

// The steps of pod and container starts (internal/trace), by step: where
// a start's time goes, node-wide.
var (
	podStartSteps = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "berth_pod_start_step_seconds",
		Help:    "Duration of each step of RunPodSandbox: netns, cni, files, pause create, pause start.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	}, []string{"step"})
	containerStartSteps = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "berth_container_start_step_seconds",
		Help:    "Duration of each step of CreateContainer and StartContainer: rootfs, spec, runtime create, runtime start.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	}, []string{"step"})
)

// observeSteps adds the finished steps of one start to a histogram.
func observeSteps(h *prometheus.HistogramVec, steps trace.Steps) {
	for _, st := range steps {
		if !st.End.IsZero() {
			h.WithLabelValues(st.Name).Observe(st.Duration().Seconds())
		}
	}
}

// eventSubscribersDropped counts GetContainerEvents clients dropped for
// falling too far behind.
var eventSubscribersDropped = promauto.NewCounter(prometheus.CounterOpts{
	Name: "berth_event_subscribers_dropped_total",
	Help: "GetContainerEvents subscribers dropped for falling too far behind the events.",
})

// eventSubscribers counts the GetContainerEvents streams open.
var eventSubscribers = promauto.NewGauge(prometheus.GaugeOpts{
	Name: "berth_event_subscribers",
	Help: "GetContainerEvents streams open.",
})

// ServeMetrics serves Prometheus metrics on addr until the returned server
// is closed. The Go runtime and process collectors come with the default
// registry (memory, goroutines, fds).
func ServeMetrics(addr string) (*http.Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	srv := &http.Server{Handler: mux}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logrus.WithError(err).Error("metrics server stopped")
		}
	}()
	logrus.WithField("address", l.Addr().String()).Info("serving metrics")
	return srv, nil
}
