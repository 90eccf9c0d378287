package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/proc"
)

func TestPauseNamespaces(t *testing.T) {
	tests := []struct {
		name string
		ns   Namespaces
		want []string
	}{
		{"pod namespaces", Namespaces{}, []string{"uts", "ipc", "pid"}},
		{"host network keeps the host's UTS", Namespaces{HostNetwork: true}, []string{"ipc", "pid"}},
		{"host IPC", Namespaces{HostIPC: true}, []string{"uts", "pid"}},
		{"host PID", Namespaces{HostPID: true}, []string{"uts", "ipc"}},
		{"user namespace", Namespaces{UserNS: &UserNS{}}, []string{"uts", "ipc", "pid", "user"}},
		{"all host", Namespaces{HostNetwork: true, HostIPC: true, HostPID: true}, nil},
	}
	for _, tt := range tests {
		if got := pauseNamespaces(tt.ns); !slices.Equal(got, tt.want) {
			t.Errorf("%s: pauseNamespaces = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPodNamespaces(t *testing.T) {
	tests := []struct {
		name string
		ns   Namespaces
		want []string
	}{
		{"own PID namespaces: no init, no PID pin", Namespaces{}, []string{"uts", "ipc"}},
		{"shared PID namespace", Namespaces{SharedPID: true}, []string{"uts", "ipc", "pid"}},
		{"host network keeps the host's UTS", Namespaces{HostNetwork: true, SharedPID: true}, []string{"ipc", "pid"}},
		{"host IPC", Namespaces{HostIPC: true}, []string{"uts"}},
		{"host PID wins over shared", Namespaces{HostPID: true, SharedPID: true}, []string{"uts", "ipc"}},
		{"all host", Namespaces{HostNetwork: true, HostIPC: true, HostPID: true}, nil},
	}
	for _, tt := range tests {
		if got := podNamespaces(tt.ns); !slices.Equal(got, tt.want) {
			t.Errorf("%s: podNamespaces = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// berth makes a pod's namespaces with no process: each pin is a namespace
// of its own, not the host's, the UTS one with the pod's hostname, the
// netns with its loopback up; what a thread that joins them sets (a
// sysctl) is theirs alone. A failure leaves no pin.
func TestPinNewNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make and bind-mount namespaces")
	}
	dir := t.TempDir()
	pins := map[string]string{}
	for _, kind := range []string{"net", "ipc", "uts"} {
		pins[kind] = filepath.Join(dir, "pod1-"+kind)
	}
	if err := pinNewNamespaces(pins, "pod-one"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unpinNamespaces(pins) })
	for kind, path := range pins {
		var pinned, host unix.Stat_t
		if err := unix.Stat(path, &pinned); err != nil {
			t.Fatalf("%s pin: %v", kind, err)
		}
		if err := unix.Stat("/proc/self/ns/"+kind, &host); err != nil {
			t.Fatal(err)
		}
		var fs unix.Statfs_t
		if err := unix.Statfs(path, &fs); err != nil || fs.Type != unix.NSFS_MAGIC {
			t.Errorf("%s pin is not a namespace (statfs %v, type %x)", kind, err, fs.Type)
		}
		if pinned.Ino == host.Ino {
			t.Errorf("%s pin is the host's namespace (%d/%d vs %d/%d)", kind, pinned.Dev, pinned.Ino, host.Dev, host.Ino)
		}
	}
	var hostname string
	var loopbackUp bool
	var shmmni []byte
	err := inNamespaces("", pins, func() error {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return err
		}
		hostname = unix.ByteSliceToString(u.Nodename[:])
		devs, err := os.ReadFile("/proc/thread-self/net/dev")
		loopbackUp = err == nil && strings.Contains(string(devs), "lo:")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if hostname != "pod-one" || !loopbackUp {
		t.Errorf("in the pinned namespaces: hostname %q, loopback listed %v; want pod-one, true", hostname, loopbackUp)
	}
	hostShmmni, _ := os.ReadFile("/proc/sys/kernel/shmmni")
	if err := applySysctls(map[string]string{"kernel.shmmni": "1234", "net.ipv4.ip_unprivileged_port_start": "99"}, pins); err != nil {
		t.Fatal(err)
	}
	var port []byte
	inNamespaces("", pins, func() (err error) {
		shmmni, _ = os.ReadFile("/proc/sys/kernel/shmmni")
		port, err = os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
		return err
	})
	if strings.TrimSpace(string(shmmni)) != "1234" || strings.TrimSpace(string(port)) != "99" {
		t.Errorf("sysctls in the pod's namespaces: shmmni %q, port start %q", shmmni, port)
	}
	if now, _ := os.ReadFile("/proc/sys/kernel/shmmni"); string(now) != string(hostShmmni) {
		t.Errorf("the host's kernel.shmmni changed from %q to %q", hostShmmni, now)
	}

	// A pin that cannot be made (its dir is missing) leaves none of the
	// others behind.
	bad := map[string]string{"ipc": filepath.Join(dir, "pod2-ipc"), "uts": filepath.Join(dir, "missing", "pod2-uts")}
	if err := pinNewNamespaces(bad, "pod-two"); err == nil {
		t.Fatal("pinning into a missing dir succeeded")
	}
	if _, err := os.Stat(bad["ipc"]); !os.IsNotExist(err) {
		t.Errorf("the ipc pin of a failed pinning is left: %v", err)
	}
	if err := pinNewNamespaces(map[string]string{"pid": filepath.Join(dir, "pod3-pid")}, ""); err == nil {
		t.Error("a PID namespace was pinned without a process")
	}
}

// A pin is the namespace itself: it keeps naming it whatever happens to
// the process's pid, and unpinning leaves nothing behind.
func TestPinProcessNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to bind-mount namespace files")
	}
	dir := t.TempDir()
	paths := pinPaths(dir, "pod1", []string{"ipc", "uts"})
	if err := pinProcessNamespaces(os.Getpid(), paths); err != nil {
		t.Fatal(err)
	}
	for kind, path := range paths {
		var pinned, self unix.Stat_t
		if err := unix.Stat(path, &pinned); err != nil {
			t.Fatalf("%s pin: %v", kind, err)
		}
		if err := unix.Stat("/proc/self/ns/"+kind, &self); err != nil {
			t.Fatal(err)
		}
		if pinned.Ino != self.Ino || pinned.Dev != self.Dev {
			t.Errorf("%s pin is inode %d, the namespace is %d", kind, pinned.Ino, self.Ino)
		}
	}
	// A second pin at the same place is refused, not stacked.
	if err := pinProcessNamespaces(os.Getpid(), paths); err == nil {
		t.Error("pinning twice at the same paths succeeded")
	}
	if err := unpinNamespaces(paths); err != nil {
		t.Fatal(err)
	}
	if err := unpinNamespaces(paths); err != nil {
		t.Errorf("unpinning again: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
		t.Errorf("left after unpinning: %v", left)
	}
}

// A ready sandbox whose pause process is gone reads NotReady at once.
func TestSnapshotPauseGone(t *testing.T) {
	self, err := proc.ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		pid   int
		start uint64
		want  State
	}{
		{"pause alive", os.Getpid(), self.StartTime, Ready},
		{"pid reused by another process", os.Getpid(), self.StartTime + 1, NotReady},
		{"pause gone", 0, 0, NotReady},
	}
	for _, tt := range tests {
		sb := newSandbox(Record{ID: "pod1", State: Ready, PausePID: tt.pid, PauseStart: tt.start})
		if got := sb.Snapshot().State; got != tt.want {
			t.Errorf("%s: state = %s, want %s", tt.name, got, tt.want)
		}
	}
}
