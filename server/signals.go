package server

import (
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/signals"
)

// criSignalName is the name kubelet gives a CRI signal: SIGNAL_SIGQUIT is
// "SIGQUIT", SIGNAL_SIGRTMINPLUS1 "SIGRTMIN+1", SIGNAL_SIGRTMAXMINUS2
// "SIGRTMAX-2". ok is false for RUNTIME_DEFAULT and unknown values.
func criSignalName(s runtimeapi.Signal) (name string, ok bool) {
	enum, ok := runtimeapi.Signal_name[int32(s)]
	if !ok || s == runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT {
		return "", false
	}
	name = strings.TrimPrefix(enum, "SIGNAL_")
	name = strings.Replace(name, "RTMINPLUS", "RTMIN+", 1)
	name = strings.Replace(name, "RTMAXMINUS", "RTMAX-", 1)
	return name, true
}

// stopSignalName is the name of the CRI config's stop signal (kubelet's
// lifecycle.stopSignal), for the container to record; "" (RUNTIME_DEFAULT)
// leaves the choice to the image's STOPSIGNAL, else SIGTERM.
func stopSignalName(cri runtimeapi.Signal) (string, error) {
	if cri == runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT {
		return "", nil
	}
	name, ok := criSignalName(cri)
	if !ok {
		return "", invalid("stop signal %d is not a signal of the CRI", cri)
	}
	return name, nil
}

// criStopSignal is the CRI signal ContainerStatus reports for a record's
// stop signal: the one Stop sends, so SIGTERM when the record has none.
// kubelet shows it in the pod's status (containerStatuses[].stopSignal).
// A name the CRI knows is kept as given (SIGCLD stays SIGCLD); otherwise
// the signal's first CRI name is used (SIGABRT, not SIGIOT).
func criStopSignal(s string) runtimeapi.Signal {
	sig := signals.Stop(s)
	want := strings.ToUpper(s)
	if !strings.HasPrefix(want, "SIG") {
		want = "SIG" + want
	}
	best := runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT
	for v := range runtimeapi.Signal_name {
		cri := runtimeapi.Signal(v)
		name, ok := criSignalName(cri)
		if !ok {
			continue
		}
		if name == want {
			return cri
		}
		if n, _ := signals.Parse(name); n == sig && (best == runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT || cri < best) {
			best = cri
		}
	}
	return best
}
