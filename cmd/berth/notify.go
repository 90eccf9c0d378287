package main

import (
	"fmt"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// notifySystemd tells the service manager (systemd's Type=notify, over
// $NOTIFY_SOCKET) what berth is doing: READY=1 once the CRI socket
// serves, RELOADING=1 while a SIGHUP is applied (then READY=1 again),
// STOPPING=1 on shutdown. Without $NOTIFY_SOCKET (not started by systemd)
// it does nothing.
func notifySystemd(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		// A lost notification costs the unit's state, not the node's pods.
		logrus.WithError(err).WithField("state", state).Warn("notifying systemd")
	}
}

// reloadingState is RELOADING=1 with the CLOCK_MONOTONIC time that
// systemd's reload protocol (Type=notify-reload) asks for beside it.
func reloadingState() string {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return daemon.SdNotifyReloading
	}
	return fmt.Sprintf("%s\nMONOTONIC_USEC=%d", daemon.SdNotifyReloading, ts.Nano()/1000)
}
