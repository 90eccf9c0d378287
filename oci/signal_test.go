package oci

import (
	"errors"
	"syscall"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestStopSignal(t *testing.T) {
	tests := map[string]syscall.Signal{
		"":            syscall.SIGTERM,
		"SIGQUIT":     syscall.SIGQUIT,
		"quit":        syscall.SIGQUIT,
		"3":           syscall.SIGQUIT,
		"SIGIOT":      syscall.SIGABRT,
		"SIGCLD":      syscall.SIGCHLD,
		"SIGPOLL":     syscall.SIGIO,
		"SIGRTMIN":    34,
		"SIGRTMIN+1":  35,
		"RTMIN+15":    49,
		"SIGRTMAX-14": 50,
		"SIGRTMAX-1":  63,
		"SIGRTMAX":    64,
		"64":          64,
		// What berth cannot read stops with SIGTERM.
		"SIGBOGUS":   syscall.SIGTERM,
		"SIGRTMIN-1": syscall.SIGTERM,
		"SIGRTMAX+1": syscall.SIGTERM,
		"SIGRTMIN1":  syscall.SIGTERM,
		"65":         syscall.SIGTERM,
		"0":          syscall.SIGTERM,
	}
	for in, want := range tests {
		if got := stopSignal(in); got != want {
			t.Errorf("stopSignal(%q) = %d, want %d", in, got, want)
		}
	}
}

// The CRI config's stop signal (kubelet's lifecycle.stopSignal) goes before
// the image's.
func TestContainerStopSignal(t *testing.T) {
	tests := []struct {
		name  string
		cri   runtimeapi.Signal
		image string
		want  string
	}{
		{"neither", runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, "", ""},
		{"image only", runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, "SIGQUIT", "SIGQUIT"},
		{"config over image", runtimeapi.Signal_SIGNAL_SIGUSR1, "SIGQUIT", "SIGUSR1"},
		{"config real-time", runtimeapi.Signal_SIGNAL_SIGRTMINPLUS3, "", "SIGRTMIN+3"},
		{"config real-time from the top", runtimeapi.Signal_SIGNAL_SIGRTMAXMINUS2, "", "SIGRTMAX-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := containerStopSignal(tt.cri, tt.image)
			if err != nil || got != tt.want {
				t.Errorf("containerStopSignal = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := containerStopSignal(runtimeapi.Signal(99), ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown CRI signal: %v, want ErrInvalid", err)
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
		name, err := containerStopSignal(cri, "SIGQUIT")
		if err != nil {
			t.Fatalf("%s: %v", enum, err)
		}
		if _, ok := parseSignal(name); !ok {
			t.Errorf("%s: recorded as %q, which Stop cannot send", enum, name)
		}
		if got := CRIStopSignal(name); got != cri {
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
		if got := CRIStopSignal(in); got != want {
			t.Errorf("CRIStopSignal(%q) = %s, want %s", in, got, want)
		}
	}
}
