//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/proc"
)

// sharePID makes a pod's containers share one PID namespace
// (shareProcessNamespace: true), which takes an init.
func sharePID(cfg *runtimeapi.PodSandboxConfig) {
	cfg.Linux.SecurityContext.NamespaceOptions.Pid = runtimeapi.NamespaceMode_POD
}

// isNamespace says whether path is a namespace file: a pin berth
// bind-mounted, or a /proc/<pid>/ns entry.
func isNamespace(path string) bool {
	var fs unix.Statfs_t
	return path != "" && unix.Statfs(path, &fs) == nil && fs.Type == unix.NSFS_MAGIC
}

// sameNamespace says whether two namespace files name one namespace.
func sameNamespace(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 != nil || err2 != nil || !isNamespace(a) || !isNamespace(b) {
		return false
	}
	x, y := sa.Sys().(*syscall.Stat_t), sb.Sys().(*syscall.Stat_t)
	return x.Dev == y.Dev && x.Ino == y.Ino
}

// checkPodHolder checks what holds a ready pod's namespaces: pinned
// network, IPC and UTS namespaces (the UTS one with the pod's hostname)
// and no process of the pod's own; or, for a pod that shares its PID
// namespace, also an init that is PID 1 of the pinned PID namespace, in
// the pod's other namespaces (its user namespace too, if it has one), as
// the pause user (mapped there) without capabilities.
func checkPodHolder(t *testing.T, hostname string, info podInfo, shared bool) {
	t.Helper()
	for _, kind := range []string{"ipc", "uts"} {
		if !isNamespace(info.Namespaces[kind]) {
			t.Errorf("pod's %s namespace pin %q is not a namespace", kind, info.Namespaces[kind])
		}
	}
	if !isNamespace(info.NetNS) {
		t.Errorf("pod's netns pin %q is not a namespace", info.NetNS)
	}
	out, err := exec.Command("nsenter", "--uts="+info.Namespaces["uts"], "hostname").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != hostname {
		t.Errorf("hostname in the pod's UTS namespace: %q, %v; want %q", out, err, hostname)
	}
	if !shared {
		if info.PID != 0 || info.Namespaces["pid"] != "" {
			t.Errorf("a pod without a shared PID namespace has pid %d and PID namespace %q; want no process", info.PID, info.Namespaces["pid"])
		}
		return
	}
	if info.PID <= 0 || !proc.Alive(info.PID, mustStart(t, info.PID)) {
		t.Fatalf("pod init %d is not running", info.PID)
	}
	joins := map[string]string{"net": info.NetNS, "ipc": info.Namespaces["ipc"], "uts": info.Namespaces["uts"], "pid": info.Namespaces["pid"]}
	pauseUID := "65535"
	if user := info.Namespaces["user"]; user != "" {
		joins["user"] = user
		pauseUID = strconv.Itoa(usernsHostID + 65535)
	}
	for kind, pin := range joins {
		if !sameNamespace(fmt.Sprintf("/proc/%d/ns/%s", info.PID, kind), pin) {
			t.Errorf("pod init's %s namespace is not the pod's pin %s", kind, pin)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", info.PID))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string][]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.Fields(v)
		}
	}
	if nspid := fields["NSpid"]; len(nspid) != 2 || nspid[1] != "1" {
		t.Errorf("pod init NSpid %v; want PID 1 of a PID namespace of its own", nspid)
	}
	for _, ids := range []string{"Uid", "Gid"} {
		if !slices.Equal(fields[ids], []string{pauseUID, pauseUID, pauseUID, pauseUID}) {
			t.Errorf("pod init's %s %v, want %s", ids, fields[ids], pauseUID)
		}
	}
	if capEff := fields["CapEff"]; len(capEff) == 0 || strings.Trim(capEff[0], "0") != "" {
		t.Errorf("pod init has capabilities %v", capEff)
	}
	root, err := os.ReadDir(fmt.Sprintf("/proc/%d/root", info.PID))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range root {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"dev", "pause", "proc", "sys"}) {
		t.Errorf("pod init's root holds %v; want only the empty pause rootfs", names)
	}
}

// A user-namespaced pod whose containers do not share a PID namespace has
// no process of its own either: berth makes its user namespace, with the
// pod's mappings, and the IPC and UTS namespaces that namespace owns; the
// containers join them, with the hostname and both kinds of sysctl set
// (the IPC one as the pod's root, the only one the kernel lets write it).
// One that shares its PID namespace gets an init berth starts in its user
// namespace, not the runtime's pause.
func TestUserNamespacedPodWithoutProcess(t *testing.T) {
	f := newContainerFixture(t, "berth-it-usernspin", "berthitusnpin", "10.124.40.0/24")
	p := f.runPod(t, "usernspin", func(cfg *runtimeapi.PodSandboxConfig) {
		usernsPod(cfg)
		cfg.Linux.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "81", "kernel.shmmni": "2048"}
	})
	_, podInfo := podStatus(t, f.b, p.id)
	checkPodHolder(t, "usernspin", podInfo, false)
	userPin := podInfo.Namespaces["user"]
	if !isNamespace(userPin) {
		t.Fatalf("pod's user namespace pin %q is not a namespace", userPin)
	}
	runcList := func() string {
		root := filepath.Join(f.b.Dir, "run", "runc")
		if _, err := os.Stat(root); os.IsNotExist(err) {
			return "" // runc has run nothing yet
		}
		out, err := exec.Command("/usr/local/sbin/runc", "--root", root, "list", "-q").Output()
		if err != nil {
			t.Fatalf("runc list: %v", err)
		}
		return string(out)
	}
	if strings.Contains(runcList(), p.id) {
		t.Errorf("the runtime runs a pause for the pod:\n%s", runcList())
	}
	a := runContainer(t, f.b, p, containerConfig("a", "sleep", "3600"))
	b := runContainer(t, f.b, p, containerConfig("b", "sleep", "3600"))
	for _, id := range []string{a, b} {
		_, info := containerStatus(t, f.b, id)
		for kind, pin := range map[string]string{"net": podInfo.NetNS, "ipc": podInfo.Namespaces["ipc"], "uts": podInfo.Namespaces["uts"], "user": userPin} {
			if !sameNamespace(fmt.Sprintf("/proc/%d/ns/%s", info.PID, kind), pin) {
				t.Errorf("container %s is not in the pod's %s namespace", id, kind)
			}
		}
		if got := strings.Fields(execSync(t, f.b, id, "cat", "/proc/self/uid_map")); len(got) != 3 || got[0] != "0" || got[1] != strconv.Itoa(usernsHostID) || got[2] != "65536" {
			t.Errorf("uid_map in container %s: %q, want 0 %d 65536", id, got, usernsHostID)
		}
		if out := strings.TrimSpace(execSync(t, f.b, id, "hostname")); out != "usernspin" {
			t.Errorf("hostname in container %s: %q", id, out)
		}
		if out := strings.TrimSpace(execSync(t, f.b, id, "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/kernel/shmmni")); strings.Join(strings.Fields(out), " ") != "81 2048" {
			t.Errorf("pod sysctls in container %s: %q, want 81 and 2048", id, out)
		}
	}
	if data, _ := os.ReadFile("/proc/sys/kernel/shmmni"); strings.TrimSpace(string(data)) == "2048" {
		t.Error("the pod's kernel.shmmni reached the host")
	}

	shared := f.runPod(t, "usernsshared", func(cfg *runtimeapi.PodSandboxConfig) {
		usernsPod(cfg)
		sharePID(cfg)
		cfg.Linux.Sysctls = map[string]string{"kernel.shmmni": "1024"}
	})
	_, sharedInfo := podStatus(t, f.b, shared.id)
	checkPodHolder(t, "usernsshared", sharedInfo, true)
	if strings.Contains(runcList(), shared.id) {
		t.Errorf("the runtime runs a pause for the shared-PID pod:\n%s", runcList())
	}
	cfg := containerConfig("c", "sleep", "3600")
	cfg.Linux.SecurityContext.NamespaceOptions.Pid = runtimeapi.NamespaceMode_POD
	// The init's user and group in the pod's user namespace: the ones that
	// may look through /proc/1/root.
	cfg.Linux.SecurityContext.RunAsUser = &runtimeapi.Int64Value{Value: 65535}
	cfg.Linux.SecurityContext.RunAsGroup = &runtimeapi.Int64Value{Value: 65535}
	c := runContainer(t, f.b, shared, cfg)
	if out := execSync(t, f.b, c, "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "/pause\x00") {
		t.Errorf("PID 1 of a shared-PID user-namespaced pod is %q, want its init", out)
	}
	_, cInfo := containerStatus(t, f.b, c)
	for kind, pin := range map[string]string{"pid": sharedInfo.Namespaces["pid"], "user": sharedInfo.Namespaces["user"], "ipc": sharedInfo.Namespaces["ipc"]} {
		if !sameNamespace(fmt.Sprintf("/proc/%d/ns/%s", cInfo.PID, kind), pin) {
			t.Errorf("container %s is not in the shared-PID pod's %s namespace", c, kind)
		}
	}
	if out := strings.TrimSpace(execSync(t, f.b, c, "cat", "/proc/sys/kernel/shmmni")); out != "1024" {
		t.Errorf("the shared-PID pod's kernel.shmmni in its container: %q, want 1024", out)
	}
	// The init's tree is its own, made in the pod's user namespace, with
	// the host's detached: ".." from its root stays in it.
	if out := execSync(t, f.b, c, "ls", "/proc/1/root/.."); strings.Join(strings.Fields(out), " ") != "dev pause proc sys" {
		t.Errorf("/proc/1/root/.. from the pod's container lists %q; want only the pause rootfs", out)
	}
	// berth restarted finds the init it started and still holds the pod.
	f.b.Kill()
	f.b.Restart(t)
	if st, info := podStatus(t, f.b, shared.id); st.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY || info.PID != sharedInfo.PID {
		t.Errorf("after a restart the shared-PID pod is %v with init %d; want READY with init %d", st.GetState(), info.PID, sharedInfo.PID)
	}
	removePod(t, f.b, p.id)
	removePod(t, f.b, shared.id)
	f.assertAllClean(t, []testPod{p, shared})
}
