package server

import (
	"testing"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
)

// record is a container record made from cfg, as CreateContainer stores it.
func record(t *testing.T, cfg *runtimeapi.ContainerConfig, mut func(*container.Record)) container.Record {
	t.Helper()
	c, err := containerConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := container.Record{ID: "c1", Config: *c, State: container.Running, Image: "busybox", ImageID: "sha256:own", Resources: c.Resources}
	if mut != nil {
		mut(&rec)
	}
	return rec
}

// kubelet shows the stop signal ContainerStatus reports in the pod's status;
// RUNTIME_DEFAULT would tell it berth does not support stop signals.
func TestContainerStatusStopSignal(t *testing.T) {
	tests := []struct {
		recorded string
		want     runtimeapi.Signal
	}{
		{"", runtimeapi.Signal_SIGNAL_SIGTERM},
		{"SIGQUIT", runtimeapi.Signal_SIGNAL_SIGQUIT},
		{"SIGRTMIN+1", runtimeapi.Signal_SIGNAL_SIGRTMINPLUS1},
	}
	for _, tt := range tests {
		st := containerStatus(record(t, &runtimeapi.ContainerConfig{}, func(r *container.Record) { r.StopSignal = tt.recorded }))
		if st.GetStopSignal() != tt.want {
			t.Errorf("recorded %q: status stop signal %s, want %s", tt.recorded, st.GetStopSignal(), tt.want)
		}
	}
}

// An image volume is reported with the image berth mounted, by ID; other
// mounts as they were asked for.
func TestContainerStatusMounts(t *testing.T) {
	host := &runtimeapi.Mount{
		ContainerPath: "/data", HostPath: "/var/lib/kubelet/x", Readonly: true, RecursiveReadOnly: true,
		Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER, SelinuxRelabel: true,
		UidMappings: []*runtimeapi.IDMapping{{ContainerId: 0, HostId: 100000, Length: 65536}},
		GidMappings: []*runtimeapi.IDMapping{{ContainerId: 0, HostId: 200000, Length: 65536}},
	}
	shared := &runtimeapi.Mount{ContainerPath: "/shared", HostPath: "/mnt", Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}
	vol := &runtimeapi.Mount{
		ContainerPath: "/vol/", Readonly: true, ImageSubPath: "sub",
		Image: &runtimeapi.ImageSpec{Image: "example.com/tools:1", UserSpecifiedImage: "tools:1"},
	}
	cfg := &runtimeapi.ContainerConfig{Mounts: []*runtimeapi.Mount{host, shared, vol}}
	st := containerStatus(record(t, cfg, func(r *container.Record) {
		r.ImageVolumes = []container.ImageVolume{{ContainerPath: "/vol/", ImageID: "sha256:tools"}}
	}))
	wantVol := proto.Clone(vol).(*runtimeapi.Mount)
	wantVol.Image.Image = "sha256:tools"
	got := st.GetMounts()
	if len(got) != 3 || !proto.Equal(got[0], host) || !proto.Equal(got[1], shared) || !proto.Equal(got[2], wantVol) {
		t.Errorf("mounts = %v; want %v, %v and %v", got, host, shared, wantVol)
	}
	if vol.Image.Image != "example.com/tools:1" {
		t.Error("statusMounts changed the config's mount")
	}
}

// What CreateContainer stores comes back in ContainerStatus as kubelet
// sent it: metadata, labels, annotations and resources.
func TestContainerStatusRoundTrip(t *testing.T) {
	res := &runtimeapi.LinuxContainerResources{
		CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512, MemoryLimitInBytes: 256 << 20,
		MemorySwapLimitInBytes: 512 << 20, OomScoreAdj: 900, CpusetCpus: "0-1", CpusetMems: "0",
		HugepageLimits: []*runtimeapi.HugepageLimit{{PageSize: "2MB", Limit: 4 << 20}},
		Unified:        map[string]string{"memory.high": "1000000"},
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: "app", Attempt: 3},
		Labels:      map[string]string{"io.kubernetes.container.name": "app"},
		Annotations: map[string]string{"io.kubernetes.container.hash": "abc"},
		Linux:       &runtimeapi.LinuxContainerConfig{Resources: res},
	}
	st := containerStatus(record(t, cfg, nil))
	if !proto.Equal(st.GetMetadata(), cfg.GetMetadata()) {
		t.Errorf("metadata = %v, want %v", st.GetMetadata(), cfg.GetMetadata())
	}
	if st.GetLabels()["io.kubernetes.container.name"] != "app" || st.GetAnnotations()["io.kubernetes.container.hash"] != "abc" {
		t.Errorf("labels %v, annotations %v", st.GetLabels(), st.GetAnnotations())
	}
	if !proto.Equal(st.GetResources().GetLinux(), res) {
		t.Errorf("resources = %v, want %v", st.GetResources().GetLinux(), res)
	}
}
