// Package metrics holds the Prometheus counters of failures and reuse that
// happen deep in berth's packages, below what the CRI server sees: an OCI
// runtime call, a conmon start, a CNI plugin, a layer found unpacked. The
// server's own metrics (RPCs, start steps, pulls, objects by state, events)
// live in server/.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	// RuntimeFailures counts OCI runtime calls that failed, by handler
	// and command (create, start, kill, delete, exec, update...). A call
	// on a container the runtime no longer knows is not a failure.
	RuntimeFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_runtime_failures_total",
		Help: "OCI runtime calls that failed, by runtime handler and command.",
	}, []string{"handler", "command"})

	// MonitorFailures counts conmon monitors that failed to start or to
	// report the runtime's create (the runtime's own errors are
	// RuntimeFailures).
	MonitorFailures = promauto.NewCounter(prometheus.CounterOpts{
		Name: "berth_conmon_failures_total",
		Help: "conmon monitors that failed to start or to report the runtime's create.",
	})

	// CNIFailures counts CNI plugin calls that failed, by plugin and
	// command (ADD, DEL, CHECK, STATUS...).
	CNIFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_cni_failures_total",
		Help: "CNI plugin calls that failed, by plugin and CNI command.",
	}, []string{"plugin", "command"})

	// ImageLayers counts the layers of the images pulled by whether they
	// were unpacked or found in the store already.
	ImageLayers = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "berth_image_layers_total",
		Help: "Layers of pulled images: unpacked, or reused from the store.",
	}, []string{"result"})
)
