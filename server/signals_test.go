package server

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/signals"
)

// The CRI config's stop signal (kubelet's lifecycle.stopSignal) is
// recorded by name; RUNTIME_DEFAULT leaves it to the image.
func TestStopSignalName(t *testing.T) {
	tests := []struct {
		name string
		cri  runtimeapi.Signal
		want string
	}{
		{"runtime default", runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, ""},
		{"config", runtimeapi.Signal_SIGNAL_SIGUSR1, "SIGUSR1"},
		{"config real-time", runtimeapi.Signal_SIGNAL_SIGRTMINPLUS3, "SIGRTMIN+3"},
		{"config real-time from the top", runtimeapi.Signal_SIGNAL_SIGRTMAXMINUS2, "SIGRTMAX-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stopSignalName(tt.cri)
			if err != nil || got != tt.want {
				t.Errorf("stopSignalName = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := stopSignalName(runtimeapi.Signal(99)); status.Code(err) != codes.InvalidArgument {
		t.Errorf("unknown CRI signal: %v, want InvalidArgument", err)
	}
}

// Every CRI signal kubelet can send is one Stop sends, and ContainerStatus
// reports it back unchanged.
func TestCRISignalsRoundTrip(t *testing.T) {
	for v, enum := range runtimeapi.Signal_name {
		cri := runtimeapi.Signal(v)
		if cri == runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT {
			continue
		}
		name, err := stopSignalName(cri)
		if err != nil {
			t.Fatalf("%s: %v", enum, err)
		}
		if _, ok := signals.Parse(name); !ok {
			t.Errorf("%s: recorded as %q, which Stop cannot send", enum, name)
		}
		if got := criStopSignal(name); got != cri {
			t.Errorf("%s: recorded as %q, reported as %s", enum, name, got)
		}
	}
}

func TestCRIStopSignal(t *testing.T) {
	tests := map[string]runtimeapi.Signal{
		"":           runtimeapi.Signal_SIGNAL_SIGTERM, // what Stop sends
		"SIGBOGUS":   runtimeapi.Signal_SIGNAL_SIGTERM,
		"SIGQUIT":    runtimeapi.Signal_SIGNAL_SIGQUIT,
		"quit":       runtimeapi.Signal_SIGNAL_SIGQUIT,
		"3":          runtimeapi.Signal_SIGNAL_SIGQUIT,
		"6":          runtimeapi.Signal_SIGNAL_SIGABRT, // not SIGIOT
		"SIGIOT":     runtimeapi.Signal_SIGNAL_SIGIOT,
		"35":         runtimeapi.Signal_SIGNAL_SIGRTMINPLUS1,
		"SIGRTMAX-1": runtimeapi.Signal_SIGNAL_SIGRTMAXMINUS1,
	}
	for in, want := range tests {
		if got := criStopSignal(in); got != want {
			t.Errorf("criStopSignal(%q) = %s, want %s", in, got, want)
		}
	}
}
