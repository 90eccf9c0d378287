package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"

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
