//go:build integration

package integration

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/harness"
)

// tarEntries reads a tar archive: each entry's name and, for regular
// files, its content.
func tarEntries(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[strings.TrimPrefix(h.Name, "./")] = data
	}
}

// checkpointTestRuntime is runc, except that its checkpoint writes what
// CRIU would (an image file, dump.log) instead of running CRIU, which
// cannot run on every kernel: berth's part (the call, the archive, the
// cleanup) is what is under test. With the file slow present, a
// checkpoint hangs.
func checkpointTestRuntime(t *testing.T, dir, slow string) string {
	path := filepath.Join(dir, "checkpointing-runc")
	script := `#!/bin/sh
for a; do [ "$a" = checkpoint ] && ckpt=1; done
[ -z "$ckpt" ] && exec /usr/local/sbin/runc "$@"
while [ $# -gt 0 ]; do
	case "$1" in --image-path) img=$2; shift;; --work-path) work=$2; shift;; esac
	shift
done
[ -e ` + slow + ` ] && exec sleep 60
mkdir -p "$img" && echo inventory >"$img/inventory.img" && echo 'Dumping finished successfully' >"$work/dump.log"
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// CheckpointContainer writes the archive CRI-O and checkpointctl read,
// leaves the container running, and on every refusal or failure leaves no
// archive and no scratch files.
func TestCheckpointContainerArchive(t *testing.T) {
	tools := t.TempDir()
	// berth's CRIU probe finds a criu whose check passes.
	if err := os.WriteFile(filepath.Join(tools, "criu"), []byte("#!/bin/sh\n[ \"$1\" = check ] && echo 'Looks good.'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(tools, "slow")
	runtimes := fmt.Sprintf("[runtime.handlers.runc]\npath = \"/usr/local/sbin/runc\"\nroot = %q\n[runtime.handlers.ckpt]\npath = %q\nroot = %q\n",
		filepath.Join(tools, "runc-root"), checkpointTestRuntime(t, tools, slow), filepath.Join(tools, "ckpt-root"))
	f := startContainerFixture(t, "berth-it-ckpt", "berthitckpt", "10.124.34.0/24", harness.Options{
		Config: runtimes,
		Env:    []string{"PATH=" + tools + ":" + os.Getenv("PATH")},
	})
	pullImage(t, f.b, busyboxImage)
	b := f.b
	cfg := podConfig("ckpt", f.parent)
	resp, err := b.Runtime().RunPodSandbox(ctx(t), &runtimeapi.RunPodSandboxRequest{Config: cfg, RuntimeHandler: "ckpt"})
	if err != nil {
		t.Fatal(err)
	}
	p := f.describePod(t, resp.GetPodSandboxId(), cfg)
	ctr := runContainer(t, b, p, containerConfig("ckpt-me", "sh", "-c", "echo written >/written && rm /bin/vi && sleep 3600"))
	waitFor(t, time.Minute, func() bool {
		r, err := b.Runtime().ExecSync(ctx(t), &runtimeapi.ExecSyncRequest{ContainerId: ctr, Cmd: []string{"test", "-e", "/written", "-a", "!", "-e", "/bin/vi"}, Timeout: 10})
		return err == nil && r.GetExitCode() == 0
	})

	out := t.TempDir()
	location := filepath.Join(out, "checkpoint-ckpt_it-ckpt-me.tar")
	if _, err := b.Runtime().CheckpointContainer(ctx(t), &runtimeapi.CheckpointContainerRequest{ContainerId: ctr, Location: location}); err != nil {
		t.Fatalf("CheckpointContainer: %v\n%s", err, b.Logs())
	}
	file, err := os.Open(location)
	if err != nil {
		t.Fatal(err)
	}
	entries := tarEntries(t, file)
	file.Close()
	if string(entries["checkpoint/inventory.img"]) != "inventory\n" || !strings.Contains(string(entries["dump.log"]), "finished") {
		t.Errorf("the archive lacks CRIU's images or its log: %v", slices.Sorted(maps.Keys(entries)))
	}
	var config struct {
		ID, Name, RootfsImageName string
		Runtime                   string `json:"runtime"`
	}
	if err := json.Unmarshal(entries["config.dump"], &config); err != nil || config.ID != ctr || config.Name != "ckpt-me" || !strings.Contains(config.RootfsImageName, "busybox") || config.Runtime != "ckpt" {
		t.Errorf("config.dump %s: %+v, %v", entries["config.dump"], config, err)
	}
	var spec struct{ Process struct{ Args []string } }
	if err := json.Unmarshal(entries["spec.dump"], &spec); err != nil || !slices.Contains(spec.Process.Args, "sh") {
		t.Errorf("spec.dump is not the container's OCI spec: %v, %v", spec, err)
	}
	var deleted []string
	if err := json.Unmarshal(entries["deleted.files"], &deleted); err != nil || !slices.Contains(deleted, "/bin/vi") {
		t.Errorf("deleted.files %s (%v), want /bin/vi in it", entries["deleted.files"], err)
	}
	diff := tarEntries(t, strings.NewReader(string(entries["rootfs-diff.tar"])))
	if string(diff["written"]) != "written\n" {
		t.Errorf("rootfs-diff.tar lacks the file the container wrote: %v", slices.Sorted(maps.Keys(diff)))
	}
	if _, ok := diff["bin/.wh.vi"]; !ok {
		t.Errorf("rootfs-diff.tar lacks the whiteout of the deleted /bin/vi: %v", slices.Sorted(maps.Keys(diff)))
	}
	if st, _ := containerStatus(t, b, ctr); st.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("the container is %v after its checkpoint, want running", st.GetState())
	}
	execSync(t, b, ctr, "true")

	refused := []struct {
		name     string
		req      *runtimeapi.CheckpointContainerRequest
		code     codes.Code
		location string
	}{
		{"relative location", &runtimeapi.CheckpointContainerRequest{ContainerId: ctr, Location: "ckpt.tar"}, codes.InvalidArgument, ""},
		{"location in a missing dir", &runtimeapi.CheckpointContainerRequest{ContainerId: ctr, Location: filepath.Join(out, "no", "ckpt.tar")}, codes.InvalidArgument, ""},
		{"unknown container", &runtimeapi.CheckpointContainerRequest{ContainerId: "0123456789ab", Location: filepath.Join(out, "unknown.tar")}, codes.NotFound, filepath.Join(out, "unknown.tar")},
	}
	for _, r := range refused {
		if _, err := b.Runtime().CheckpointContainer(ctx(t), r.req); status.Code(err) != r.code {
			t.Errorf("%s: CheckpointContainer = %v, want %v", r.name, err, r.code)
		}
	}
	// A checkpoint that outlives its timeout is DeadlineExceeded and
	// leaves nothing.
	if err := os.WriteFile(slow, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	late := filepath.Join(out, "late.tar")
	_, err = b.Runtime().CheckpointContainer(ctx(t), &runtimeapi.CheckpointContainerRequest{ContainerId: ctr, Location: late, Timeout: 1})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("a checkpoint past its 1 s timeout: %v, want DeadlineExceeded", err)
	}
	os.Remove(slow)
	if left, _ := os.ReadDir(out); len(left) != 1 {
		t.Errorf("files in the archive dir after the failures: %v, want only the first archive", left)
	}
	if scratch, _ := filepath.Glob(filepath.Join(b.Dir, "root", "containers", "*", "checkpoint-*")); len(scratch) != 0 {
		t.Errorf("checkpoint scratch dirs left: %v", scratch)
	}

	stopContainer(t, b, ctr, 0)
	if _, err := b.Runtime().CheckpointContainer(ctx(t), &runtimeapi.CheckpointContainerRequest{ContainerId: ctr, Location: filepath.Join(out, "exited.tar")}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("checkpoint of an exited container: %v, want FailedPrecondition", err)
	}
	f.removeAll(t, p, ctr)
}

// Where CRIU cannot run (this kind of machine's kernel fails `criu
// check`) or is not installed, CheckpointContainer is FailedPrecondition
// saying so, and the container runs on untouched. Where it can, the
// checkpoint is real.
func TestCheckpointContainerNeedsCRIU(t *testing.T) {
	f := newContainerFixture(t, "berth-it-criu", "berthitcriu", "10.124.35.0/24")
	p := f.runPod(t, "criu", nil)
	ctr := runContainer(t, f.b, p, containerConfig("criu", "sleep", "3600"))
	location := filepath.Join(t.TempDir(), "ckpt.tar")
	_, err := f.b.Runtime().CheckpointContainer(ctx(t), &runtimeapi.CheckpointContainerRequest{ContainerId: ctr, Location: location})

	criu, lookErr := exec.LookPath("criu")
	var checkErr error
	if lookErr == nil {
		checkErr = exec.Command(criu, "check").Run()
	}
	switch {
	case lookErr != nil:
		if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "not installed") {
			t.Errorf("without CRIU: %v, want FailedPrecondition saying it is not installed", err)
		}
	case checkErr != nil:
		t.Logf("criu check fails on this host (%v): checkpointing must be refused; berth says: %v", checkErr, err)
		if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "check") {
			t.Errorf("where criu check fails: %v, want FailedPrecondition naming the check", err)
		}
	default:
		t.Log("criu check passes on this host: the checkpoint is real")
		if err != nil {
			t.Fatalf("CheckpointContainer with a working CRIU: %v", err)
		}
		file, err := os.Open(location)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		if _, ok := tarEntries(t, file)["checkpoint/inventory.img"]; !ok {
			t.Error("the archive has no CRIU inventory")
		}
	}
	if err != nil {
		if _, statErr := os.Stat(location); !errors.Is(statErr, os.ErrNotExist) {
			t.Errorf("a refused checkpoint left %s", location)
		}
	}
	if st, _ := containerStatus(t, f.b, ctr); st.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Errorf("the container is %v, want running", st.GetState())
	}
	f.removeAll(t, p, ctr)
}
