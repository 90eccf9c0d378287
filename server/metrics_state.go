package server

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/sirupsen/logrus"
	"google.golang.org/grpc/status"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/internal/events"
	"github.com/berth-dev/berth/sandbox"
)

var (
	imagePulls = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_image_pulls_total",
		Help: "Image pulls by result (ok, or the gRPC code of the failure).",
	}, []string{"result"})
	imagePullBytes = promauto.NewCounter(prometheus.CounterOpts{
		Name: "berth_image_pull_bytes_total",
		Help: "Compressed bytes of the images pulled.",
	})
	imagePullDuration = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "berth_image_pull_duration_seconds",
		Help:    "Duration of successful image pulls.",
		Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
	})
	containerExits = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_container_exits_total",
		Help: "Containers seen to stop, by reason (Completed, Error, OOMKilled).",
	}, []string{"reason"})
)

// observePull counts one pull of bytes that took since start; err is its
// gRPC status.
func observePull(bytes uint64, start time.Time, err error) {
	if err != nil {
		imagePulls.WithLabelValues(status.Code(err).String()).Inc()
		return
	}
	imagePulls.WithLabelValues("ok").Inc()
	imagePullBytes.Add(float64(bytes))
	imagePullDuration.Observe(time.Since(start).Seconds())
}

// objectStates counts the pods and containers by state at each scrape.
type objectStates struct {
	pods, containers *prometheus.Desc
}

// liveServer is the server whose objects the state metrics count: the one
// New made last (one per process, but tests make several).
var liveServer atomic.Pointer[Server]

var registerStates sync.Once

// countObjectStates makes s the server the state metrics count, registering
// them the first time.
func countObjectStates(s *Server) {
	liveServer.Store(s)
	registerStates.Do(func() {
		prometheus.MustRegister(&objectStates{
			pods:       prometheus.NewDesc("berth_pods", "Pod sandboxes by state.", []string{"state"}, nil),
			containers: prometheus.NewDesc("berth_containers", "Containers by state.", []string{"state"}, nil),
		})
	})
}

func (o *objectStates) Describe(ch chan<- *prometheus.Desc) {
	ch <- o.pods
	ch <- o.containers
}

func (o *objectStates) Collect(ch chan<- prometheus.Metric) {
	s := liveServer.Load()
	if s == nil {
		return
	}
	pods := map[string]int{"ready": 0, "notready": 0}
	for _, rec := range s.sandboxes.List() {
		if rec.State == sandbox.Ready {
			pods["ready"]++
		} else {
			pods["notready"]++
		}
	}
	for state, n := range pods {
		ch <- prometheus.MustNewConstMetric(o.pods, prometheus.GaugeValue, float64(n), state)
	}
	ctrs := map[string]int{"created": 0, "running": 0, "exited": 0}
	for _, rec := range s.containers.List() {
		ctrs[strings.ToLower(strings.TrimPrefix(criContainerState(rec.State).String(), "CONTAINER_"))]++
	}
	for state, n := range ctrs {
		ch <- prometheus.MustNewConstMetric(o.containers, prometheus.GaugeValue, float64(n), state)
	}
}

// countExits counts each container's stop by its reason, from the events,
// until the subscription ends.
func (s *Server) countExits(sub *events.Subscription) {
	for {
		for ev := range sub.Events() {
			if ev.Kind != events.Stopped || ev.ID == ev.SandboxID {
				continue
			}
			if rec, err := s.containers.Status(ev.ID); err == nil && rec.State == container.Exited {
				containerExits.WithLabelValues(rec.Reason).Inc()
			}
		}
		if !errors.Is(sub.Err(), events.ErrTooSlow) {
			return // berth is shutting down
		}
		logrus.Warn("the exit counter fell behind the events; some exits are not counted")
		sub = s.events.Subscribe()
	}
}
