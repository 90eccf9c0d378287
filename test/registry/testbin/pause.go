package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// pauseMain behaves like Kubernetes' pause: it sleeps until SIGINT or
// SIGTERM, then exits 0, and reaps every child that gets reparented to it.
func pauseMain(args []string) int {
	for _, a := range args {
		if strings.EqualFold(a, "-v") {
			fmt.Println("pause (berth testbin)")
			return 0
		}
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}
	for s := range sigs {
		if s == syscall.SIGCHLD {
			reapChildren()
			continue
		}
		fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\n", s)
		return 0
	}
	return 0
}

// reapChildren collects every child that has exited. The applets that run as
// PID 1 call it on SIGCHLD; they start no children of their own, so nothing
// else is waiting for these.
func reapChildren() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
