// Package signals reads signal names as images (STOPSIGNAL) and kubelet
// spell them.
package signals

import (
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
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

// Parse reads a signal as an image's STOPSIGNAL or kubelet spell it:
// "SIGQUIT", "QUIT", "3", "SIGRTMIN+1", "RTMAX-2".
func Parse(s string) (syscall.Signal, bool) {
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

// Stop is the signal a container's stop sends for its recorded stop
// signal: SIGTERM when it has none, or one berth cannot read.
func Stop(s string) syscall.Signal {
	if sig, ok := Parse(s); ok {
		return sig
	}
	return syscall.SIGTERM
}
