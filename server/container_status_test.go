package server

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/oci"
)

// record is a container record made from cfg, as CreateContainer stores it.
func record(t *testing.T, cfg *runtimeapi.ContainerConfig, mut func(*oci.Record)) oci.Record {
	t.Helper()
	data, err := protojson.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := oci.Record{ID: "c1", Config: data, State: oci.Running, Image: "busybox", ImageID: "sha256:own"}
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
		st := containerStatus(record(t, &runtimeapi.ContainerConfig{}, func(r *oci.Record) { r.StopSignal = tt.recorded }))
		if st.GetStopSignal() != tt.want {
			t.Errorf("recorded %q: status stop signal %s, want %s", tt.recorded, st.GetStopSignal(), tt.want)
		}
	}
}

// An image volume is reported with the image berth mounted, by ID; other
// mounts as they were asked for.
func TestContainerStatusMounts(t *testing.T) {
	host := &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/var/lib/kubelet/x", Readonly: true}
	vol := &runtimeapi.Mount{
		ContainerPath: "/vol/", Readonly: true, ImageSubPath: "sub",
		Image: &runtimeapi.ImageSpec{Image: "example.com/tools:1", UserSpecifiedImage: "tools:1"},
	}
	cfg := &runtimeapi.ContainerConfig{Mounts: []*runtimeapi.Mount{host, vol}}
	st := containerStatus(record(t, cfg, func(r *oci.Record) {
		r.ImageVolumes = []oci.ImageVolume{{ContainerPath: "/vol/", ImageID: "sha256:tools"}}
	}))
	wantVol := proto.Clone(vol).(*runtimeapi.Mount)
	wantVol.Image.Image = "sha256:tools"
	got := st.GetMounts()
	if len(got) != 2 || !proto.Equal(got[0], host) || !proto.Equal(got[1], wantVol) {
		t.Errorf("mounts = %v; want %v and %v", got, host, wantVol)
	}
	if vol.Image.Image != "example.com/tools:1" {
		t.Error("statusMounts changed the config's mount")
	}
}
