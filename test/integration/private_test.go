//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// usernsHostID is the host ID a user-namespaced test pod's root maps to.
const usernsHostID = 100000

// reachableBy says whether the local user id (its own group, no others)
// can stat path: every dir on the way must let it pass.
func reachableBy(id int, path string) bool {
	s := strconv.Itoa(id)
	return exec.Command("setpriv", "--reuid="+s, "--regid="+s, "--clear-groups", "stat", path).Run() == nil
}

// usernsPod makes a pod config ask for a user namespace of its own, with
// its root mapped to usernsHostID, as kubelet does for hostUsers: false.
func usernsPod(cfg *runtimeapi.PodSandboxConfig) {
	ids := []*runtimeapi.IDMapping{{HostId: usernsHostID, ContainerId: 0, Length: 65536}}
	cfg.Linux.SecurityContext.NamespaceOptions.UsernsOptions = &runtimeapi.UserNamespace{
		Mode: runtimeapi.NamespaceMode_POD, Uids: ids, Gids: ids,
	}
}

// Container root filesystems hold setuid binaries and device nodes: no
// local user may reach them (CVE-2021-41103), whatever mode the state dirs
// had before berth started. A user-namespaced pod's containers still run:
// their rootfs is mounted below the userns root, in a dir only the pod's
// mapped root may enter.
func TestStateDirsAreClosedToLocalUsers(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed: cannot act as a local user")
	}
	f := newContainerFixture(t, "berth-it-priv", "berthitpriv", "10.124.19.0/24")
	b := f.b
	// An operator (or a local user) left the dirs open: berth closes them
	// when it starts again.
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	run, root := filepath.Join(b.Dir, "run"), filepath.Join(b.Dir, "root")
	for _, d := range []string{run, root, filepath.Join(run, "containers"), filepath.Join(run, "sandboxes"), filepath.Join(root, "containers")} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b.Restart(t)
	for _, d := range []string{run, root, filepath.Join(run, "containers"), filepath.Join(run, "sandboxes"), filepath.Join(root, "containers")} {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("%s is %v after a restart, want 0700", d, st.Mode().Perm())
		}
	}

	p := f.runPod(t, "private", nil)
	id := runContainer(t, b, p, containerConfig("sleeper", "sleep", "3600"))
	up := f.runPod(t, "private-userns", usernsPod)
	uid := runContainer(t, b, up, containerConfig("sleeper", "sleep", "3600"))

	if got := strings.Fields(execSync(t, b, uid, "cat", "/proc/self/uid_map")); len(got) != 3 || got[1] != strconv.Itoa(usernsHostID) {
		t.Errorf("user-namespaced container's uid_map %q, want container 0 mapped to host %d", got, usernsHostID)
	}
	rootfs := filepath.Join(run, "containers", id, "rootfs")
	usernsRootfs := filepath.Join(b.Dir, "userns", up.id, uid)
	for _, path := range []string{rootfs, usernsRootfs} {
		if _, err := os.Stat(filepath.Join(path, "bin", "sh")); err != nil {
			t.Fatalf("the rootfs is not mounted where expected: %v", err)
		}
	}
	const nobody = 65534
	for _, path := range []string{
		filepath.Join(rootfs, "bin", "sh"),
		filepath.Join(root, "containers", id, "upper"),
		filepath.Join(run, "sandboxes", p.id, "hosts"),
		filepath.Join(usernsRootfs, "bin", "sh"),
		filepath.Join(root, "containers", uid, "upper"),
	} {
		if reachableBy(nobody, path) {
			t.Errorf("local user %d reaches %s", nobody, path)
		}
	}
	// Another pod's mapped root is just another local user to this one.
	if reachableBy(usernsHostID+65536, filepath.Join(usernsRootfs, "bin", "sh")) {
		t.Errorf("another user-namespaced pod's root reaches this pod's rootfs")
	}
	if !reachableBy(usernsHostID, filepath.Join(usernsRootfs, "bin", "sh")) {
		t.Errorf("the pod's mapped root cannot reach its own container's rootfs")
	}
	if reachableBy(usernsHostID, filepath.Join(rootfs, "bin", "sh")) {
		t.Errorf("a user-namespaced pod's root reaches another pod's rootfs")
	}

	removeContainer(t, b, id)
	removeContainer(t, b, uid)
	removePod(t, b, p.id)
	removePod(t, b, up.id)
	f.assertAllClean(t, []testPod{p, up})
	entries, err := os.ReadDir(filepath.Join(b.Dir, "userns"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("userns root still holds %v after the pod was removed", names(entries))
	}
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, fmt.Sprintf("%s (%v)", e.Name(), e.Type()))
	}
	return out
}
