package oci

import (
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The real-time signals as C programs (and kubelet's names) number them:
// glibc keeps the kernel's first two (32, 33) for its threads, so SIGRTMIN
// is 34.
const (
	sigRTMin = 34
	sigRTMax = 64
)

// signalAliases are the names the CRI enum has that x/sys/unix does not
// know, for the same signals.
var signalAliases = map[string]syscall.Signal{
	"SIGIOT":  unix.SIGABRT,
	"SIGCLD":  unix.SIGCHLD,
	"SIGPOLL": unix.SIGIO,
}

// parseSignal reads a signal as an image's STOPSIGNAL or kubelet spell it:
// "SIGQUIT", "QUIT", "3", "SIGRTMIN+1", "RTMAX-2".
func parseSignal(s string) (syscall.Signal, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return syscall.Signal(n), n > 0 && n <= sigRTMax
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig, ok := signalAliases[name]; ok {
		return sig, true
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		return rtSignal(sigRTMin, rest)
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX"); ok {
		return rtSignal(sigRTMax, rest)
	}
	sig := unix.SignalNum(name)
	return sig, sig != 0
}

// rtSignal is a real-time signal: base moved by rest ("", "+3", "-3").
func rtSignal(base int, rest string) (syscall.Signal, bool) {
	n := base
	if rest != "" {
		off, err := strconv.Atoi(rest)
		if err != nil || (rest[0] != '+' && rest[0] != '-') {
			return 0, false
		}
		n += off
	}
	return syscall.Signal(n), n >= sigRTMin && n <= sigRTMax
}

// stopSignal is the signal Stop sends for a record's stop signal: SIGTERM
// when it has none, or one berth cannot read.
func stopSignal(s string) syscall.Signal {
	if sig, ok := parseSignal(s); ok {
		return sig
	}
	return syscall.SIGTERM
}

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

// containerStopSignal is the stop signal a container records at create:
// the CRI config's (kubelet's lifecycle.stopSignal) before the image's
// STOPSIGNAL, as containerd and CRI-O choose it. "" means SIGTERM.
func containerStopSignal(cri runtimeapi.Signal, image string) (string, error) {
	if cri == runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT {
		return image, nil
	}
	name, ok := criSignalName(cri)
	if !ok {
		return "", invalidf("stop signal %d is not a signal of the CRI", cri)
	}
	return name, nil
}

// CRIStopSignal is the CRI signal ContainerStatus reports for a record's
// stop signal: the one Stop sends, so SIGTERM when the record has none.
// kubelet shows it in the pod's status (containerStatuses[].stopSignal).
// A name the CRI knows is kept as given (SIGCLD stays SIGCLD); otherwise
// the signal's first CRI name is used (SIGABRT, not SIGIOT).
func CRIStopSignal(s string) runtimeapi.Signal {
	sig := stopSignal(s)
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
		if n, _ := parseSignal(name); n == sig && (best == runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT || cri < best) {
			best = cri
		}
	}
	return best
}
