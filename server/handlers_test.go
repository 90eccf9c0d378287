package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/trace"
	"github.com/berth-dev/berth/oci"
	"github.com/berth-dev/berth/sandbox"
	"github.com/berth-dev/berth/spec"
)

// The handlers run here against fakes of the managers: what is tested is
// the translation from CRI requests and the mapping of errors to codes.
// A method a fake does not set panics (the embedded interface is nil).

type fakeSandboxes struct {
	PodSandboxManager
	records map[string]sandbox.Record
	update  func(id string, res spec.Resources) error
}

func (f *fakeSandboxes) Status(id string) (sandbox.Record, error) {
	rec, ok := f.records[id]
	if !ok {
		return sandbox.Record{}, fmt.Errorf("%w: %q", sandbox.ErrNotFound, id)
	}
	return rec, nil
}

func (f *fakeSandboxes) UpdateResources(id string, res spec.Resources) error {
	return f.update(id, res)
}

type fakeContainers struct {
	ContainerManager
	create   func(pod container.Pod, cfg *container.Config) (string, error)
	start    func(id string) error
	execSync func(id string, cmd []string, timeout time.Duration) (container.ExecResult, error)
	inUse    func(imageID string) bool
}

func (f *fakeContainers) Create(_ context.Context, pod container.Pod, cfg *container.Config) (string, error) {
	return f.create(pod, cfg)
}
func (f *fakeContainers) Start(_ context.Context, id string) error { return f.start(id) }
func (f *fakeContainers) ExecSync(_ context.Context, id string, cmd []string, timeout time.Duration) (container.ExecResult, error) {
	return f.execSync(id, cmd, timeout)
}
func (f *fakeContainers) InUse(imageID string) bool { return f.inUse(imageID) }

// Startup knows no container: the handlers' metrics look, nothing more.
func (f *fakeContainers) Startup(id string) (trace.Steps, error) {
	return nil, fmt.Errorf("%w: %q", container.ErrNotFound, id)
}

type fakeImages struct {
	ImageStore
	remove func(ref string, inUse func(string) bool) error
}

func (f *fakeImages) Remove(ref string, inUse func(string) bool) error { return f.remove(ref, inUse) }

// readyPod is a ready sandbox on the "runc" handler.
var readyPod = sandbox.Record{
	ID: "pod1", State: sandbox.Ready, Handler: "runc", CgroupParent: "/kubepods/pod1",
	Config: sandbox.Config{Name: "web", Namespace: "default", UID: "uid1", LogDir: "/var/log/pods/x"},
}

func testServer(sb *fakeSandboxes, c *fakeContainers) *Server {
	return &Server{
		cfg:        config.Default(),
		runtimes:   oci.NewRuntimes(map[string]config.RuntimeHandler{"runc": {Path: "/usr/local/sbin/runc"}}, "runc"),
		sandboxes:  sb,
		containers: c,
	}
}

func TestCreateContainerRequests(t *testing.T) {
	notReady := readyPod
	notReady.ID, notReady.State = "pod2", sandbox.NotReady
	gone := readyPod
	gone.ID, gone.Handler = "pod3", "removed-handler"
	sb := &fakeSandboxes{records: map[string]sandbox.Record{"pod1": readyPod, "pod2": notReady, "pod3": gone}}
	var created *container.Config
	c := &fakeContainers{create: func(pod container.Pod, cfg *container.Config) (string, error) {
		created = cfg
		if cfg.Name == "refused" {
			return "", fmt.Errorf("create: %w", spec.ErrInvalid)
		}
		return "c1", nil
	}}
	s := testServer(sb, c)
	valid := func() *runtimeapi.ContainerConfig {
		return &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "app"}, Image: &runtimeapi.ImageSpec{Image: "busybox"}}
	}
	tests := []struct {
		name string
		pod  string
		cfg  func(*runtimeapi.ContainerConfig)
		code codes.Code
	}{
		{name: "no config", pod: "pod1", code: codes.InvalidArgument},
		{name: "no pod ID", pod: "", cfg: func(*runtimeapi.ContainerConfig) {}, code: codes.InvalidArgument},
		{name: "unknown pod", pod: "nope", cfg: func(*runtimeapi.ContainerConfig) {}, code: codes.NotFound},
		{name: "pod not ready", pod: "pod2", cfg: func(*runtimeapi.ContainerConfig) {}, code: codes.FailedPrecondition},
		{name: "pod's handler gone", pod: "pod3", cfg: func(*runtimeapi.ContainerConfig) {}, code: codes.FailedPrecondition},
		{name: "stop signal not of the CRI", pod: "pod1", cfg: func(c *runtimeapi.ContainerConfig) { c.StopSignal = 99 }, code: codes.InvalidArgument},
		{name: "bad seccomp path", pod: "pod1", cfg: func(c *runtimeapi.ContainerConfig) {
			c.Linux = &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{SeccompProfilePath: "docker/strict"}}
		}, code: codes.InvalidArgument},
		{name: "bad apparmor name", pod: "pod1", cfg: func(c *runtimeapi.ContainerConfig) {
			c.Linux = &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{ApparmorProfile: "nope"}}
		}, code: codes.InvalidArgument},
		{name: "refused by the manager", pod: "pod1", cfg: func(c *runtimeapi.ContainerConfig) { c.Metadata.Name = "refused" }, code: codes.InvalidArgument},
		{name: "created", pod: "pod1", cfg: func(*runtimeapi.ContainerConfig) {}, code: codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &runtimeapi.CreateContainerRequest{PodSandboxId: tt.pod}
			if tt.cfg != nil {
				req.Config = valid()
				tt.cfg(req.Config)
			}
			_, err := s.CreateContainer(context.Background(), req)
			wantCode(t, err, tt.code)
		})
	}
	if created == nil || created.Name != "app" || created.Image != "busybox" {
		t.Errorf("the manager got %+v", created)
	}
}

// CreateContainer hands the manager the pod as the sandbox recorded it and
// the CRI config as plain Go.
func TestCreateContainerTranslation(t *testing.T) {
	var gotPod container.Pod
	var got *container.Config
	c := &fakeContainers{create: func(pod container.Pod, cfg *container.Config) (string, error) {
		gotPod, got = pod, cfg
		return "c1", nil
	}}
	s := testServer(&fakeSandboxes{records: map[string]sandbox.Record{"pod1": readyPod}}, c)
	req := &runtimeapi.CreateContainerRequest{PodSandboxId: "pod1", Config: &runtimeapi.ContainerConfig{
		Metadata:   &runtimeapi.ContainerMetadata{Name: "app", Attempt: 2},
		Image:      &runtimeapi.ImageSpec{Image: "sha256:abc", UserSpecifiedImage: "busybox:1"},
		Command:    []string{"/bin/sh"},
		Args:       []string{"-c", "true"},
		WorkingDir: "/work",
		Envs:       []*runtimeapi.KeyValue{{Key: "A", Value: []byte("1")}},
		Devices:    []*runtimeapi.Device{{HostPath: "/dev/null", ContainerPath: "/dev/n", Permissions: "rw"}},
		LogPath:    "app/2.log",
		StdinOnce:  true, Stdin: true, Tty: true,
		StopSignal: runtimeapi.Signal_SIGNAL_SIGQUIT,
		Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
			RunAsUser:                &runtimeapi.Int64Value{Value: 1000},
			RunAsGroup:               &runtimeapi.Int64Value{Value: 2000},
			SupplementalGroups:       []int64{5},
			SupplementalGroupsPolicy: runtimeapi.SupplementalGroupsPolicy_Strict,
			Capabilities:             &runtimeapi.Capability{AddCapabilities: []string{"NET_ADMIN"}, DropCapabilities: []string{"KILL"}},
			SeccompProfilePath:       "localhost//etc/seccomp.json",
			Apparmor:                 &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault},
			NamespaceOptions:         &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_TARGET, TargetId: "c0"},
			ReadonlyRootfs:           true,
			NoNewPrivs:               true,
		}},
	}}
	if _, err := s.CreateContainer(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if gotPod.ID != "pod1" || gotPod.Name != "web" || gotPod.CgroupParent != "/kubepods/pod1" || gotPod.LogDir != "/var/log/pods/x" || gotPod.Runtime == nil || gotPod.Runtime.Handler != "runc" {
		t.Errorf("pod = %+v", gotPod)
	}
	sc := got.Security
	switch {
	case got.Name != "app" || got.Attempt != 2 || got.Image != "sha256:abc" || got.UserSpecifiedImage != "busybox:1":
		t.Errorf("metadata and image: %+v", got)
	case got.StopSignal != "SIGQUIT" || got.LogPath != "app/2.log" || !got.Stdin || !got.StdinOnce || !got.Tty:
		t.Errorf("stop signal, log path, stdio: %+v", got)
	case len(got.Env) != 1 || got.Env[0] != (spec.EnvVar{Key: "A", Value: "1"}):
		t.Errorf("env = %+v", got.Env)
	case len(got.Devices) != 1 || got.Devices[0] != (spec.Device{HostPath: "/dev/null", ContainerPath: "/dev/n", Permissions: "rw"}):
		t.Errorf("devices = %+v", got.Devices)
	case sc.RunAsUser == nil || *sc.RunAsUser != 1000 || sc.RunAsGroup == nil || *sc.RunAsGroup != 2000 || !sc.StrictGroups:
		t.Errorf("user = %+v", sc)
	case sc.Seccomp != (spec.Profile{Type: spec.Localhost, LocalhostRef: "/etc/seccomp.json"}) || sc.AppArmor.Type != spec.RuntimeDefault:
		t.Errorf("profiles = %+v, %+v", sc.Seccomp, sc.AppArmor)
	case sc.PID != spec.PIDTarget || sc.TargetID != "c0" || !sc.ReadonlyRootfs || !sc.NoNewPrivs:
		t.Errorf("namespaces and flags = %+v", sc)
	case len(sc.CapAdd) != 1 || len(sc.CapDrop) != 1:
		t.Errorf("capabilities = %q, %q", sc.CapAdd, sc.CapDrop)
	}
}

// kubelet sends empty masked and read-only path lists for procMount
// Unmasked; on the wire they cannot be told from unset ones, and both must
// reach the spec as nil (which the spec reads as "mask nothing" in a pod
// with a user namespace).
func TestContainerConfigProcMountLists(t *testing.T) {
	wire, err := proto.Marshal(&runtimeapi.ContainerConfig{Linux: &runtimeapi.LinuxContainerConfig{
		SecurityContext: &runtimeapi.LinuxContainerSecurityContext{MaskedPaths: []string{}, ReadonlyPaths: []string{}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var c runtimeapi.ContainerConfig
	if err := proto.Unmarshal(wire, &c); err != nil {
		t.Fatal(err)
	}
	cfg, err := containerConfig(&c)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Security.MaskedPaths != nil || cfg.Security.ReadonlyPaths != nil {
		t.Errorf("masked %q, read-only %q; want nil, nil", cfg.Security.MaskedPaths, cfg.Security.ReadonlyPaths)
	}
}

// The deprecated ways of naming profiles still work.
func TestDeprecatedProfileNames(t *testing.T) {
	seccomp := map[string]spec.Profile{
		"":                      {Type: spec.Unconfined},
		"unconfined":            {Type: spec.Unconfined},
		"runtime/default":       {Type: spec.RuntimeDefault},
		"docker/default":        {Type: spec.RuntimeDefault},
		"localhost//etc/p.json": {Type: spec.Localhost, LocalhostRef: "/etc/p.json"},
	}
	for path, want := range seccomp {
		got, err := seccompProfile(&runtimeapi.LinuxContainerSecurityContext{SeccompProfilePath: path})
		if err != nil || got != want {
			t.Errorf("seccomp path %q = %+v, %v; want %+v", path, got, err, want)
		}
	}
	apparmor := map[string]spec.Profile{
		"":                     {Type: spec.RuntimeDefault},
		"unconfined":           {Type: spec.Unconfined},
		"runtime/default":      {Type: spec.RuntimeDefault},
		"localhost/my-profile": {Type: spec.Localhost, LocalhostRef: "my-profile"},
	}
	for name, want := range apparmor {
		got, err := appArmorProfile(&runtimeapi.LinuxContainerSecurityContext{ApparmorProfile: name})
		if err != nil || got != want {
			t.Errorf("apparmor name %q = %+v, %v; want %+v", name, got, err, want)
		}
	}
	// The CRI's zero profile (critest sends it) is RuntimeDefault; a type
	// the CRI does not define is refused.
	if got, err := seccompProfile(&runtimeapi.LinuxContainerSecurityContext{Seccomp: &runtimeapi.SecurityProfile{}}); err != nil || got.Type != spec.RuntimeDefault {
		t.Errorf("empty seccomp profile = %+v, %v; want RuntimeDefault", got, err)
	}
	if _, err := appArmorProfile(&runtimeapi.LinuxContainerSecurityContext{Apparmor: &runtimeapi.SecurityProfile{ProfileType: 7}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("unknown apparmor profile type: %v, want InvalidArgument", err)
	}
	// The field wins over the deprecated name.
	got, _ := seccompProfile(&runtimeapi.LinuxContainerSecurityContext{
		Seccomp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}, SeccompProfilePath: "runtime/default",
	})
	if got.Type != spec.Unconfined {
		t.Errorf("seccomp field ignored: %+v", got)
	}
}

func TestContainerErrorsMapped(t *testing.T) {
	c := &fakeContainers{
		start: func(id string) error {
			if id == "gone" {
				return fmt.Errorf("%w: %q", container.ErrNotFound, id)
			}
			return fmt.Errorf("%w: container %s is running", container.ErrFailedPrecondition, id)
		},
		execSync: func(string, []string, time.Duration) (container.ExecResult, error) {
			return container.ExecResult{}, fmt.Errorf("command %w after 1s", container.ErrTimeout)
		},
	}
	s := testServer(&fakeSandboxes{}, c)
	ctx := context.Background()
	_, err := s.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: "gone"})
	wantCode(t, err, codes.NotFound)
	_, err = s.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: "c1"})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = s.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: "c1", Cmd: []string{"sleep", "9"}, Timeout: 1})
	wantCode(t, err, codes.DeadlineExceeded)
	_, err = s.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{})
	wantCode(t, err, codes.InvalidArgument)
}

func TestUpdatePodSandboxResources(t *testing.T) {
	var got spec.Resources
	sb := &fakeSandboxes{update: func(id string, res spec.Resources) error {
		if id != "pod1" {
			return fmt.Errorf("%w: %q", sandbox.ErrNotFound, id)
		}
		got = res
		return nil
	}}
	s := testServer(sb, &fakeContainers{})
	ctx := context.Background()
	res := &runtimeapi.LinuxContainerResources{CpuShares: 512, MemoryLimitInBytes: 1 << 30}
	_, err := s.UpdatePodSandboxResources(ctx, &runtimeapi.UpdatePodSandboxResourcesRequest{Resources: res})
	wantCode(t, err, codes.InvalidArgument)
	_, err = s.UpdatePodSandboxResources(ctx, &runtimeapi.UpdatePodSandboxResourcesRequest{PodSandboxId: "pod1"})
	wantCode(t, err, codes.InvalidArgument)
	_, err = s.UpdatePodSandboxResources(ctx, &runtimeapi.UpdatePodSandboxResourcesRequest{PodSandboxId: "nope", Resources: res})
	wantCode(t, err, codes.NotFound)
	if _, err := s.UpdatePodSandboxResources(ctx, &runtimeapi.UpdatePodSandboxResourcesRequest{PodSandboxId: "pod1", Resources: res}); err != nil {
		t.Fatal(err)
	}
	if got.CPUShares != 512 || got.MemoryLimit != 1<<30 {
		t.Errorf("resources = %+v", got)
	}
}

// RemoveImage asks the container manager whether the image is in use, and
// an image in use is FailedPrecondition.
func TestRemoveImageInUse(t *testing.T) {
	c := &fakeContainers{inUse: func(id string) bool { return id == "sha256:used" }}
	s := testServer(&fakeSandboxes{}, c)
	s.images = &fakeImages{remove: func(ref string, inUse func(string) bool) error {
		if inUse == nil || !inUse(ref) {
			return nil
		}
		return fmt.Errorf("%w: image %s is used by a container", image.ErrInUse, ref)
	}}
	ctx := context.Background()
	_, err := s.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: "sha256:used"}})
	wantCode(t, err, codes.FailedPrecondition)
	if _, err := s.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: "sha256:free"}}); err != nil {
		t.Errorf("a free image: %v", err)
	}
	_, err = s.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{})
	wantCode(t, err, codes.InvalidArgument)
}

// An empty ID is the caller's mistake: InvalidArgument before any manager
// is asked (the fakes here would panic if one were).
func TestEmptyIDsAreInvalid(t *testing.T) {
	s := testServer(&fakeSandboxes{}, &fakeContainers{})
	ctx := context.Background()
	res := &runtimeapi.LinuxContainerResources{}
	calls := map[string]func() error{
		"ContainerStatus": func() error { _, err := s.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{}); return err },
		"StartContainer":  func() error { _, err := s.StartContainer(ctx, &runtimeapi.StartContainerRequest{}); return err },
		"StopContainer":   func() error { _, err := s.StopContainer(ctx, &runtimeapi.StopContainerRequest{}); return err },
		"RemoveContainer": func() error { _, err := s.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{}); return err },
		"UpdateContainerResources": func() error {
			_, err := s.UpdateContainerResources(ctx, &runtimeapi.UpdateContainerResourcesRequest{Linux: res})
			return err
		},
		"ReopenContainerLog": func() error { _, err := s.ReopenContainerLog(ctx, &runtimeapi.ReopenContainerLogRequest{}); return err },
		"ExecSync": func() error {
			_, err := s.ExecSync(ctx, &runtimeapi.ExecSyncRequest{Cmd: []string{"true"}})
			return err
		},
		"Exec":           func() error { _, err := s.Exec(ctx, &runtimeapi.ExecRequest{Cmd: []string{"true"}}); return err },
		"Attach":         func() error { _, err := s.Attach(ctx, &runtimeapi.AttachRequest{}); return err },
		"ContainerStats": func() error { _, err := s.ContainerStats(ctx, &runtimeapi.ContainerStatsRequest{}); return err },
		"CreateContainer": func() error {
			_, err := s.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{Config: &runtimeapi.ContainerConfig{}})
			return err
		},
		"CheckpointContainer": func() error {
			_, err := s.CheckpointContainer(ctx, &runtimeapi.CheckpointContainerRequest{Location: "/tmp/c.tar"})
			return err
		},
		"CheckpointContainer without a location": func() error {
			_, err := s.CheckpointContainer(ctx, &runtimeapi.CheckpointContainerRequest{ContainerId: "c1"})
			return err
		},
		"CheckpointContainer with a negative timeout": func() error {
			_, err := s.CheckpointContainer(ctx, &runtimeapi.CheckpointContainerRequest{ContainerId: "c1", Location: "/tmp/c.tar", Timeout: -1})
			return err
		},
		"PodSandboxStatus": func() error { _, err := s.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{}); return err },
		"StopPodSandbox":   func() error { _, err := s.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{}); return err },
		"RemovePodSandbox": func() error { _, err := s.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{}); return err },
		"PortForward":      func() error { _, err := s.PortForward(ctx, &runtimeapi.PortForwardRequest{}); return err },
		"UpdatePodSandboxResources": func() error {
			_, err := s.UpdatePodSandboxResources(ctx, &runtimeapi.UpdatePodSandboxResourcesRequest{Resources: res})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantCode(t, call(), codes.InvalidArgument) })
	}
}
