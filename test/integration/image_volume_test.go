//go:build integration

package integration

import (
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	crierrors "k8s.io/cri-api/pkg/errors"
)

// An image volume (Kubernetes' volumes[].image) is the image's files,
// read-only, at the container path; its image stays in use while the
// container exists; nothing is left mounted once it is removed or when the
// create fails. The CRI stop signal is reported back as kubelet expects.
func TestImageVolume(t *testing.T) {
	f := newContainerFixture(t, "berth-it-cvol", "berthitcvol", "10.124.12.0/24")
	b := f.b
	volImage := pullImage(t, b, pauseImage) // one layer: /pause
	p := f.runPod(t, "volumes", nil)
	runDir := filepath.Join(b.Dir, "run", "containers")
	volume := func(sub string) *runtimeapi.Mount {
		return &runtimeapi.Mount{ContainerPath: "/vol", Readonly: true, Image: &runtimeapi.ImageSpec{Image: volImage}, ImageSubPath: sub}
	}

	// Failed creates: kubelet's prefix, the right code, nothing left.
	for _, tt := range []struct {
		name  string
		mount *runtimeapi.Mount
		code  codes.Code
	}{
		{"unknown image", &runtimeapi.Mount{ContainerPath: "/vol", Image: &runtimeapi.ImageSpec{Image: "registry.k8s.io/not-pulled:1"}}, codes.NotFound},
		{"missing sub path", volume("nope"), codes.InvalidArgument},
		{"sub path leaving the image", volume("../etc"), codes.InvalidArgument},
	} {
		cfg := containerConfig("bad", "sleep", "3600")
		cfg.Mounts = []*runtimeapi.Mount{tt.mount}
		_, err := b.Runtime().CreateContainer(ctx(t), &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: cfg, SandboxConfig: p.cfg})
		if status.Code(err) != tt.code || !strings.HasPrefix(status.Convert(err).Message(), crierrors.ErrImageVolumeMountFailed.Error()) {
			t.Fatalf("%s: %v; want %v starting with %s", tt.name, err, tt.code, crierrors.ErrImageVolumeMountFailed)
		}
		if m := mountsUnder(t, runDir); len(m) != 0 {
			t.Fatalf("%s: a failed create left mounts: %v", tt.name, m)
		}
	}
	if got := listContainers(t, b, nil); len(got) != 0 {
		t.Fatalf("failed creates are listed: %v", got)
	}

	// The stop signal is the config's: the shell exits 0 on SIGUSR1 only.
	cfg := containerConfig("reader", "sh", "-c", `trap "exit 0" USR1; while true; do sleep 0.1; done`)
	cfg.Mounts = []*runtimeapi.Mount{volume("")}
	cfg.StopSignal = runtimeapi.Signal_SIGNAL_SIGUSR1
	id := runContainer(t, b, p, cfg)
	if out := execSync(t, b, id, "ls", "/vol"); strings.TrimSpace(out) != "pause" {
		t.Fatalf("ls /vol: %q; want the image's files", out)
	}
	resp, err := b.Runtime().ExecSync(ctx(t), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: []string{"touch", "/vol/x"}, Timeout: 20})
	if err != nil || resp.GetExitCode() == 0 {
		t.Fatalf("touch /vol/x: %v, exit %d; want a read-only file system", err, resp.GetExitCode())
	}
	st, _ := containerStatus(t, b, id)
	if st.GetStopSignal() != runtimeapi.Signal_SIGNAL_SIGUSR1 {
		t.Errorf("stop signal %s, want SIGUSR1", st.GetStopSignal())
	}
	if m := st.GetMounts(); len(m) != 1 || m[0].GetImage().GetImage() != volImage || m[0].GetHostPath() != "" {
		t.Errorf("mounts %v; want the image volume of %s", m, volImage)
	}
	_, err = b.Image().RemoveImage(ctx(t), &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: volImage}})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("removing the volume's image while mounted: %v, want FailedPrecondition", err)
	}

	stopContainer(t, b, id, 30)
	if st, _ := containerStatus(t, b, id); st.GetExitCode() != 0 {
		t.Errorf("exit code %d after StopContainer; want 0 from the SIGUSR1 trap", st.GetExitCode())
	}
	removeContainer(t, b, id)
	if m := mountsUnder(t, runDir); len(m) != 0 {
		t.Fatalf("a removed container left mounts: %v", m)
	}
	if _, err := b.Image().RemoveImage(ctx(t), &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: volImage}}); err != nil {
		t.Fatalf("removing the volume's image once unused: %v", err)
	}
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}
