package signals

import (
	"syscall"
	"testing"
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
		if got := Stop(in); got != want {
			t.Errorf("Stop(%q) = %d, want %d", in, got, want)
		}
	}
}
