package sandbox

import (
	"os"
	"path/filepath"
	"slices"
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
		sb := &Sandbox{rec: Record{ID: "pod1", State: Ready, PausePID: tt.pid, PauseStart: tt.start}}
		if got := sb.Snapshot().State; got != tt.want {
			t.Errorf("%s: state = %s, want %s", tt.name, got, tt.want)
		}
	}
}
