//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
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
// the pod's other namespaces, as the pause user without capabilities.
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
	if uid := fields["Uid"]; len(uid) == 0 || uid[0] != "65535" {
		t.Errorf("pod init runs as uid %v, want 65535", uid)
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
