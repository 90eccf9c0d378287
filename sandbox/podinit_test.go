package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/proc"
)

const catatonit = "/usr/bin/catatonit"

func initTestManager(t *testing.T, program string) *Manager {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make mount namespaces")
	}
	m := &Manager{opts: Options{RunRoot: t.TempDir(), Host: testHost(t), CgroupDriver: "cgroupfs", Pause: config.PauseConfig{Command: []string{program, "-P"}}}}
	if err := os.MkdirAll(m.nsDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := preparePauseRootfs(m.pauseRootfs()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unpinNS(filepath.Join(m.nsDir(), initMountNSPin)) })
	return m
}

// The pod inits' mount namespace holds the read-only pause rootfs and
// nothing else; an init started in it is PID 1 of a PID namespace of its
// own, as the pause user, in the namespaces it was given.
func TestPodInitRunsInAnEmptyTree(t *testing.T) {
	if _, err := os.Stat(catatonit); err != nil {
		t.Skipf("the host lacks %s (install-deps installs it): %v", catatonit, err)
	}
	m := initTestManager(t, catatonit)
	if !m.holdsItself(Namespaces{SharedPID: true}) || !m.holdsItself(Namespaces{SharedPID: true, UserNS: &UserNS{}}) {
		t.Fatal("berth does not hold shared-PID pods itself, with or without a user namespace, on a host that can")
	}
	mnt, err := m.podInitMountNS()
	if err != nil {
		t.Fatal(err)
	}
	var root []string
	var writeErr error
	var pauseRW string
	err = inNamespaces(mnt, nil, func() error {
		entries, err := os.ReadDir("/")
		for _, e := range entries {
			root = append(root, e.Name())
		}
		// Not an open of /pause for writing: while any init runs the
		// program, that fails with ETXTBSY whatever the mount.
		var fs unix.Statfs_t
		if serr := unix.Statfs("/pause", &fs); serr != nil || fs.Flags&unix.ST_RDONLY == 0 {
			pauseRW = fmt.Sprintf("statfs %v, flags %#x", serr, fs.Flags)
		}
		writeErr = os.Mkdir("/new", 0o755)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(root, []string{"dev", "pause", "proc", "sys"}) {
		t.Errorf("the pod inits' root holds %v; want the pause rootfs only", root)
	}
	if !errors.Is(writeErr, syscall.EROFS) {
		t.Errorf("mkdir /new there: %v; want EROFS", writeErr)
	}
	if pauseRW != "" {
		t.Errorf("/pause there is not a read-only mount: %s", pauseRW)
	}

	dir := t.TempDir()
	pins := map[string]string{"uts": filepath.Join(dir, "uts"), "ipc": filepath.Join(dir, "ipc")}
	if err := pinNewNamespaces(pins, "with-init"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unpinNamespaces(pins) })
	// Born in its cgroup, on this host's real hierarchies.
	cg, err := cgroups.Probe()
	if err != nil {
		t.Fatal(err)
	}
	m.opts.Host.Cgroups = cg
	rec := &Record{Holder: HolderBerth, PauseNS: map[string]string{"pid": filepath.Join(dir, "pid")}, CgroupsPath: fmt.Sprintf("/berth-test-init-%d", os.Getpid())}
	birth := m.initBirthplace(rec)
	if birth == nil {
		t.Fatal("the pod's cgroup could not be opened")
	}
	defer birth.Close()
	t.Cleanup(func() {
		if err := cg.Remove(cgroups.Cgroupfs, rec.CgroupsPath); err != nil {
			t.Error(err)
		}
	})
	init, err := startPodInit(mnt, pins, m.opts.Pause.Command, birth)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(init.pid, syscall.SIGKILL) })
	cgs, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", init.pid))
	for _, line := range strings.Split(strings.TrimSpace(string(cgs)), "\n") {
		if !strings.HasSuffix(line, ":"+rec.CgroupsPath) {
			t.Errorf("the init was born in cgroup %q, not %s", line, rec.CgroupsPath)
		}
	}
	st, err := proc.ReadStat(init.pid)
	if err != nil || st.StartTime != init.start {
		t.Fatalf("init %d: %v, start %d want %d", init.pid, err, st.StartTime, init.start)
	}
	for kind, pin := range pins {
		var a, b syscall.Stat_t
		syscall.Stat(pin, &a)
		syscall.Stat(fmt.Sprintf("/proc/%d/ns/%s", init.pid, kind), &b)
		if a.Ino != b.Ino {
			t.Errorf("init's %s namespace is not the pinned one", kind)
		}
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/root", init.pid)); exe != "/" {
		t.Errorf("init's root reads %q", exe)
	}
	rec.PausePID, rec.PauseStart = init.pid, init.start
	if err := m.stopPodInit(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if proc.Alive(init.pid, init.start) {
		t.Error("stopPodInit left the init running")
	}
	// berth's own child: reaped by berth as it exits, not left a zombie
	// for the reaper's slow scan.
	deadline := time.Now().Add(2 * time.Second)
	for _, err := os.Stat(fmt.Sprintf("/proc/%d", init.pid)); err == nil; _, err = os.Stat(fmt.Sprintf("/proc/%d", init.pid)) {
		if time.Now().After(deadline) {
			t.Fatal("the stopped init is still a zombie: it was not adopted for reaping")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A host where the inits' mount namespace cannot be made gives its
// shared-PID pods to the runtime (logged once), and fails no pod.
func TestPodInitFallsBackToTheRuntime(t *testing.T) {
	m := initTestManager(t, "/no/such/pause")
	if m.holdsItself(Namespaces{SharedPID: true}) {
		t.Error("berth holds a shared-PID pod itself though it cannot start its init")
	}
	if _, err := os.Stat(filepath.Join(m.nsDir(), initMountNSPin)); !os.IsNotExist(err) {
		t.Errorf("a failed mount namespace left its pin: %v", err)
	}
	if !m.holdsItself(Namespaces{}) || !m.holdsItself(Namespaces{UserNS: &UserNS{}}) {
		t.Error("pods without a shared PID namespace are held by berth, with a user namespace or without")
	}
	if m.holdsItself(Namespaces{UserNS: &UserNS{}, SharedPID: true}) {
		t.Error("berth holds a shared-PID user-namespaced pod itself though it cannot start its init")
	}
}

// berth killed after it made a pod init's cgroup, and started the init in
// it, but before it saved the init's pid: the next start's rollback, which
// knows no pid, still removes the cgroup and kills what runs in it.
func TestPodInitRollbackRemovesItsUnrecordedCgroup(t *testing.T) {
	if _, err := os.Stat(catatonit); err != nil {
		t.Skipf("the host lacks %s (install-deps installs it): %v", catatonit, err)
	}
	m := initTestManager(t, catatonit)
	mnt, err := m.podInitMountNS()
	if err != nil {
		t.Fatal(err)
	}
	cg, err := cgroups.Probe()
	if err != nil {
		t.Fatal(err)
	}
	m.opts.Host.Cgroups = cg
	dir := t.TempDir()
	rec := &Record{
		Holder:      HolderBerth,
		PauseNS:     map[string]string{"pid": filepath.Join(dir, "pid")},
		CgroupsPath: fmt.Sprintf("/berth-test-unrecorded-%d", os.Getpid()),
	}
	t.Cleanup(func() { cg.Remove(cgroups.Cgroupfs, rec.CgroupsPath) })
	birth := m.initBirthplace(rec)
	if birth == nil {
		t.Fatal("the pod's cgroup could not be opened")
	}
	init, err := startPodInit(mnt, nil, m.opts.Pause.Command, birth)
	birth.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(init.pid, syscall.SIGKILL) })

	// The record as saved before the init started: no pid.
	if err := m.stopPodInit(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if left := cgroupDirsOf(t, rec.CgroupsPath); len(left) > 0 {
		t.Errorf("the rollback left the init's cgroup: %v", left)
	}
	if proc.Alive(init.pid, init.start) {
		t.Error("the rollback left the unrecorded init running")
	}
}

// cgroupDirsOf lists the dirs of cgroup path p that exist in this host's
// hierarchies.
func cgroupDirsOf(t *testing.T, p string) []string {
	t.Helper()
	dirs, err := filepath.Glob("/sys/fs/cgroup/*" + p)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		// A unified host: the hierarchy is the root itself.
		dirs, _ = filepath.Glob("/sys/fs/cgroup" + p)
	}
	return dirs
}
