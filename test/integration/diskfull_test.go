//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// noSpace says whether err is the clear answer to a full disk: the code
// that says a resource ran out, and a message that says which.
func noSpace(err error) bool {
	return status.Code(err) == codes.ResourceExhausted && strings.Contains(err.Error(), "no space left on device")
}

// layerEntries lists what is in the image store's layers dir: unpacked
// layers and any temporary or trash dirs.
func layerEntries(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "images", "layers"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// A pull that fills berth's disk fails with ResourceExhausted, and keeps
// nothing of what it half-wrote: no image, no layer, the space it took
// given back. berth serves on; once there is room the same pull works
// and a container runs from the image.
func TestPullOnAFullDisk(t *testing.T) {
	f := startContainerFixture(t, "berth-it-fullpull", "berthitfullp", "10.124.27.0/24", harness.Options{RootSize: "32M"})
	b := f.b
	// Room for berth's records, not for the image (9 MB unpacked).
	free := b.FillRoot(t, 4<<20)
	usedBefore, _ := b.RootUse(t)

	_, err := b.Image().PullImage(slowCtx(t), &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: busyboxImage}})
	if !noSpace(err) {
		t.Fatalf("PullImage on a full disk = %v, want ResourceExhausted saying no space is left", err)
	}
	if strings.Contains(b.Logs(), "pull from location failed") {
		t.Errorf("after the local disk filled the pull went on to another location:\n%s", b.Logs())
	}
	if imgs, err := b.Image().ListImages(ctx(t), &runtimeapi.ListImagesRequest{}); err != nil || len(imgs.GetImages()) != 0 {
		t.Errorf("ListImages after the failed pull = %v, %v; want no image", imgs.GetImages(), err)
	}
	if left := layerEntries(t, b.Root()); len(left) != 0 {
		t.Errorf("the failed pull left in the layer store: %q", left)
	}
	if used, _ := b.RootUse(t); used > usedBefore+256<<10 {
		t.Errorf("the failed pull keeps %d KiB of the disk", (used-usedBefore)>>10)
	}
	if _, err := b.Image().ImageFsInfo(ctx(t), &runtimeapi.ImageFsInfoRequest{}); err != nil {
		t.Errorf("ImageFsInfo on a full disk: %v", err)
	}

	free()
	pullImage(t, b, busyboxImage)
	p := f.runPod(t, "after-full-pull", nil)
	id := runContainer(t, b, p, containerConfig("app", "sleep", "3600"))
	if out := execSync(t, b, id, "sh", "-c", "ls /bin | wc -l"); strings.TrimSpace(out) == "0" {
		t.Errorf("the image pulled after the full disk has an empty /bin")
	}
	stopContainer(t, b, id, 0)
	f.removeAll(t, p, id)
}

// CreateContainer on a disk that fills at each step of it (the record,
// the container's dirs, its writable layer, the runtime's files) either
// works or fails with ResourceExhausted and leaves nothing: no container
// listed, no dir, no mount, its name free. berth serves on, after a
// restart too, and with room again the same container is made and runs.
func TestCreateOnAFullDisk(t *testing.T) {
	f := startContainerFixture(t, "berth-it-fullctr", "berthitfullc", "10.124.28.0/24", harness.Options{RootSize: "48M"})
	b := f.b
	pullImage(t, b, busyboxImage)
	p := f.runPod(t, "full-create", nil)
	cfg := containerConfig("app", "sleep", "3600")

	failed := 0
	for _, leave := range []uint64{0, 2 << 10, 4 << 10, 8 << 10, 12 << 10, 16 << 10, 32 << 10, 64 << 10, 256 << 10} {
		free := b.FillRoot(t, leave)
		resp, err := b.Runtime().CreateContainer(slowCtx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: cfg, SandboxConfig: p.cfg})
		if err == nil {
			// It fitted: gone again before the next try.
			removeContainer(t, b, resp.GetContainerId())
		} else {
			t.Logf("with %d KiB free: %v", leave>>10, err)
			failed++
			if !noSpace(err) {
				t.Errorf("CreateContainer with %d KiB free = %v, want ResourceExhausted saying no space is left", leave>>10, err)
			}
		}
		if left := listContainers(t, b, nil); len(left) != 0 {
			t.Fatalf("with %d KiB free: containers listed after the create: %v", leave>>10, left)
		}
		var left []string
		if !eventually(10*time.Second, func() bool { left = b.ContainerLeftovers(""); return len(left) == 0 }) {
			t.Fatalf("with %d KiB free the create left:\n  %s", leave>>10, strings.Join(left, "\n  "))
		}
		if leave == 0 {
			// A full disk does not stop a restart, nor answers after it.
			b.Kill()
			b.Restart(t)
			if st, _ := podStatus(t, b, p.id); st.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY {
				t.Errorf("the pod after a restart on a full disk is %v, want ready", st.GetState())
			}
		}
		free()
	}
	if failed == 0 {
		t.Fatal("no create failed for lack of space: the disk never filled, the test tested nothing")
	}
	id := runContainer(t, b, p, cfg)
	if out := execSync(t, b, id, "echo", "room"); strings.TrimSpace(out) != "room" {
		t.Errorf("exec in the container made once there is room = %q", out)
	}
	stopContainer(t, b, id, 0)
	f.removeAll(t, p, id)
}

// A container that fills berth's disk from inside (its writable layer is
// there) gets ENOSPC itself; berth keeps serving it: status, exec, stop
// and remove all work, and removing it gives the space back.
func TestContainerFillingTheDisk(t *testing.T) {
	f := startContainerFixture(t, "berth-it-fullfill", "berthitfullf", "10.124.29.0/24", harness.Options{RootSize: "48M"})
	b := f.b
	pullImage(t, b, busyboxImage)
	p := f.runPod(t, "filler", nil)
	usedBefore, _ := b.RootUse(t)
	// An empty file needs no data block: /full is made on the full disk.
	id := runContainer(t, b, p, containerConfig("app", "sh", "-c", "dd if=/dev/zero of=/big bs=64k; touch /full; sleep 3600"))
	waitFor(t, time.Minute, func() bool {
		resp, err := b.Runtime().ExecSync(ctx(t), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: []string{"test", "-e", "/full"}, Timeout: 10})
		return err == nil && resp.GetExitCode() == 0
	})
	if _, free := b.RootUse(t); free > 64<<10 {
		t.Fatalf("the container wrote until its writes failed, but %d KiB are free", free>>10)
	}
	if st, _ := containerStatus(t, b, id); st.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("the container that filled the disk is %v, want still running", st.GetState())
	}
	// A few blocks may be left between dd's last short write and the end.
	resp, err := b.Runtime().ExecSync(ctx(t), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: []string{"dd", "if=/dev/zero", "of=/more", "bs=64k", "count=1"}, Timeout: 20})
	if err != nil {
		t.Fatalf("ExecSync on a full disk: %v", err)
	}
	if resp.GetExitCode() == 0 || !strings.Contains(string(resp.GetStderr()), "No space left") {
		t.Errorf("a write in the container on a full disk: exit %d, stderr %q; want it to fail for lack of space", resp.GetExitCode(), resp.GetStderr())
	}
	stopContainer(t, b, id, 0)
	removeContainer(t, b, id)
	// Given back within moments: the writable layer goes through the
	// trash, deleted in the background.
	var used uint64
	if !eventually(10*time.Second, func() bool { used, _ = b.RootUse(t); return used <= usedBefore+1<<20 }) {
		t.Errorf("removing the container gave back too little: %d KiB still used beyond what was before it", (used-usedBefore)>>10)
	}
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}
