package sandbox

import (
	"errors"
	"testing"
)

func TestCheckSysctls(t *testing.T) {
	hostNet := Namespaces{HostNetwork: true}
	hostIPC := Namespaces{HostIPC: true}
	tests := []struct {
		name string
		key  string
		ns   Namespaces
		ok   bool
	}{
		{"net in pod netns", "net.ipv4.ip_forward", Namespaces{}, true},
		{"net with host IPC", "net.core.somaxconn", hostIPC, true},
		{"net on host network", "net.ipv4.ip_forward", hostNet, false},
		{"net slash form", "net/ipv4/ip_forward", Namespaces{}, true},
		{"net slash form on host network", "net/ipv4/ip_forward", hostNet, false},
		{"shmmax in pod IPC", "kernel.shmmax", Namespaces{}, true},
		{"sem in pod IPC", "kernel.sem", Namespaces{}, true},
		{"mqueue in pod IPC", "fs.mqueue.msg_max", Namespaces{}, true},
		{"ipc on host network", "kernel.shmmax", hostNet, true},
		{"shmmax with host IPC", "kernel.shmmax", hostIPC, false},
		{"sem with host IPC", "kernel.sem", hostIPC, false},
		{"mqueue with host IPC", "fs.mqueue.msg_max", hostIPC, false},
		{"mqueue slash form with host IPC", "fs/mqueue/msg_max", hostIPC, false},
		{"kernel.panic", "kernel.panic", Namespaces{}, false},
		{"vm.swappiness", "vm.swappiness", Namespaces{}, false},
		{"vm.swappiness slash form", "vm/swappiness", Namespaces{}, false},
		{"net path climbing out", "net/../../kernel/panic", Namespaces{}, false},
		{"net with an empty element", "net..ipv4.ip_forward", Namespaces{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSysctls(map[string]string{tt.key: "1"}, tt.ns)
			if tt.ok && err != nil {
				t.Fatalf("checkSysctls(%q, %+v) = %v; want nil", tt.key, tt.ns, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("checkSysctls(%q, %+v) = %v; want an error wrapping ErrInvalid", tt.key, tt.ns, err)
			}
		})
	}
}

func TestCheckSysctlsEmptyAndMixed(t *testing.T) {
	if err := checkSysctls(nil, Namespaces{HostNetwork: true, HostIPC: true}); err != nil {
		t.Fatalf("no sysctls: %v", err)
	}
	mixed := map[string]string{"net.core.somaxconn": "1024", "kernel.panic": "1"}
	if err := checkSysctls(mixed, Namespaces{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("one bad sysctl among good ones: %v; want ErrInvalid", err)
	}
}

func TestSysctlPath(t *testing.T) {
	for key, want := range map[string]string{
		"net.ipv4.ip_forward":               "/proc/sys/net/ipv4/ip_forward",
		"net/ipv4/conf/eth0.100/forwarding": "/proc/sys/net/ipv4/conf/eth0.100/forwarding",
		"kernel.shmmax":                     "/proc/sys/kernel/shmmax",
	} {
		if got, err := sysctlPath(key); err != nil || got != want {
			t.Errorf("sysctlPath(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	for _, key := range []string{"net/./ipv4", "net/ipv4/", "/net/ipv4", "net.."} {
		if _, err := sysctlPath(key); !errors.Is(err, ErrInvalid) {
			t.Errorf("sysctlPath(%q) = %v; want ErrInvalid", key, err)
		}
	}
}
