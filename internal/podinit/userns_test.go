package podinit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const catatonit = "/usr/bin/catatonit"

// podBase is the host ID the test pods' root maps to.
const podBase = 3 << 16

// podRootfs makes an empty pause rootfs that the pod's root owns, below a
// dir it can traverse, as berth makes a user-namespaced pod's.
func podRootfs(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make user namespaces with mappings")
	}
	if _, err := os.Stat(catatonit); err != nil {
		t.Skipf("the host lacks %s (install-deps installs it): %v", catatonit, err)
	}
	dir := t.TempDir()
	// The test's temp dirs are 0700: the pod's root may pass through these.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"", "dev", "proc", "sys"} {
		if err := os.Mkdir(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(rootfs, Program), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(rootfs, podBase, podBase); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

func podInit(rootfs string) UserNSInit {
	maps := []syscall.SysProcIDMap{{ContainerID: 0, HostID: podBase, Size: 65536}}
	return UserNSInit{
		Rootfs:     rootfs,
		Command:    []string{catatonit, "-P"},
		UIDs:       maps,
		GIDs:       maps,
		Namespaces: unix.CLONE_NEWIPC | unix.CLONE_NEWUTS,
		UID:        65535,
		GID:        65535,
	}
}

func kill(pid int) {
	syscall.Kill(pid, syscall.SIGKILL)
	syscall.Wait4(pid, nil, 0, nil)
}

func statusFields(t *testing.T, pid int) map[string][]string {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string][]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.Fields(v)
		}
	}
	return fields
}

func sameFile(a, b string) bool {
	var x, y syscall.Stat_t
	return syscall.Stat(a, &x) == nil && syscall.Stat(b, &y) == nil && x.Dev == y.Dev && x.Ino == y.Ino
}

// The init of a user-namespaced pod is the pause program as PID 1 of its
// PID namespace, in a new user namespace with the pod's mappings that owns
// its new IPC, UTS and PID namespaces, as the pause user mapped there,
// without capabilities, in an empty read-only tree.
func TestInitInUserNamespace(t *testing.T) {
	rootfs := podRootfs(t)
	pid, err := StartInUserNS(podInit(rootfs))
	if err != nil {
		t.Fatal(err)
	}
	defer kill(pid)

	f := statusFields(t, pid)
	if nspid := f["NSpid"]; len(nspid) != 2 || nspid[1] != "1" {
		t.Errorf("NSpid %v; want PID 1 of a PID namespace of its own", nspid)
	}
	want := fmt.Sprint(podBase + 65535)
	for _, key := range []string{"Uid", "Gid"} {
		if !slices.Equal(f[key], []string{want, want, want, want}) {
			t.Errorf("%s %v; want the pause user mapped: %s", key, f[key], want)
		}
	}
	for _, key := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if len(f[key]) != 1 || strings.Trim(f[key][0], "0") != "" {
			t.Errorf("%s %v; want none", key, f[key])
		}
	}
	if !slices.Equal(f["NoNewPrivs"], []string{"1"}) {
		t.Errorf("NoNewPrivs %v", f["NoNewPrivs"])
	}
	if m, _ := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid)); !slices.Equal(strings.Fields(string(m)), []string{"0", fmt.Sprint(podBase), "65536"}) {
		t.Errorf("uid_map %q", m)
	}
	for _, kind := range []string{"user", "pid", "ipc", "uts", "mnt"} {
		if sameFile(fmt.Sprintf("/proc/%d/ns/%s", pid, kind), "/proc/self/ns/"+kind) {
			t.Errorf("the init is in the host's %s namespace", kind)
		}
	}
	if !sameFile(fmt.Sprintf("/proc/%d/exe", pid), catatonit) {
		t.Error("the init does not run the pause program")
	}
	if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); string(cmd) != "/pause\x00-P\x00" {
		t.Errorf("cmdline %q", cmd)
	}
	root := fmt.Sprintf("/proc/%d/root", pid)
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"dev", "pause", "proc", "sys"}) {
		t.Errorf("the init's root holds %v; want the empty pause rootfs only", names)
	}
	if err := os.Mkdir(filepath.Join(root, "x"), 0o755); !errors.Is(err, syscall.EROFS) {
		t.Errorf("mkdir in the init's root: %v; want EROFS", err)
	}
}

// A helper that cannot make the init says why, naming the step, and
// leaves no process.
func TestInitInUserNamespaceReportsItsFailure(t *testing.T) {
	rootfs := podRootfs(t)
	hidden, err := os.MkdirTemp(filepath.Dir(filepath.Dir(rootfs)), "hidden") // 0700, root's
	if err != nil {
		t.Fatal(err)
	}
	unreachable := podInit(filepath.Join(hidden, "rootfs"))
	if err := os.Rename(rootfs, unreachable.Rootfs); err != nil {
		t.Fatal(err)
	}
	missing := podInit(rootfs)
	unmapped := podInit(unreachable.Rootfs)
	unmapped.UID = 70000 // past the mapping
	for _, c := range []struct {
		name string
		init UserNSInit
		want string
	}{
		{"missing rootfs", missing, "bind the rootfs: no such file or directory"},
		{"rootfs out of the pod root's reach", unreachable, "bind the rootfs: permission denied"},
	} {
		pid, err := StartInUserNS(c.init)
		if err == nil {
			kill(pid)
			t.Errorf("%s: started", c.name)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
	// The rootfs back in reach: the user is what fails.
	if err := os.Rename(unreachable.Rootfs, rootfs); err != nil {
		t.Fatal(err)
	}
	unmapped.Rootfs = rootfs
	if pid, err := StartInUserNS(unmapped); err == nil {
		kill(pid)
		t.Error("an init as an unmapped user started")
	} else if !strings.Contains(err.Error(), "become user 70000") {
		t.Errorf("unmapped user: %v; want the step named", err)
	}
	if pid, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); !errors.Is(err, unix.ECHILD) {
		t.Errorf("a failed start left a child: wait4 %d, %v", pid, err)
	}
}

// BenchmarkStartInUserNS is the cost of a user-namespaced pod's init, from
// the clone to the pause program running (with the test's own small binary
// as the helper: berth's costs a few ms more to start).
func BenchmarkStartInUserNS(b *testing.B) {
	rootfs := podRootfs(b)
	for b.Loop() {
		pid, err := StartInUserNS(podInit(rootfs))
		if err != nil {
			b.Fatal(err)
		}
		kill(pid)
	}
}
