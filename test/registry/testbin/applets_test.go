package main

import (
	"testing"
	"time"
)

func TestNmeterLine(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.UTC)
	for format, want := range map[string]string{
		"%3t":     "03:04:05.678",
		"%t":      "03:04:05",
		"at %1t!": "at 03:04:05.6!",
		"100%":    "100%",
		"%x %3t":  "%x 03:04:05.678",
	} {
		if got := nmeterLine(format, now); got != want {
			t.Errorf("nmeterLine(%q) = %q, want %q", format, got, want)
		}
	}
}

func TestSysctlPath(t *testing.T) {
	for name, want := range map[string][2]string{
		"kernel.shm_rmid_forced":          {"kernel.shm_rmid_forced", "/proc/sys/kernel/shm_rmid_forced"},
		"kernel/shm_rmid_forced":          {"kernel.shm_rmid_forced", "/proc/sys/kernel/shm_rmid_forced"},
		"net/ipv4/conf/eth0.1/forwarding": {"net.ipv4.conf.eth0.1.forwarding", "/proc/sys/net/ipv4/conf/eth0.1/forwarding"},
	} {
		key, path := sysctlPath(name)
		if key != want[0] || path != want[1] {
			t.Errorf("sysctlPath(%q) = %q, %q; want %q, %q", name, key, path, want[0], want[1])
		}
	}
}

// Every applet the package comment lists can be run by name.
func TestAppletsRegistered(t *testing.T) {
	for _, name := range []string{"pgrep", "ipcs", "nmeter", "nnp", "nginx", "httpd", "sysctl", "pause"} {
		if _, ok := applets[name]; !ok {
			t.Errorf("applet %q is not registered", name)
		}
	}
}
