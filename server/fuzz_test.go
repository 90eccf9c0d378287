package server

import (
	"testing"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/spec"
)

// FuzzContainerConfig feeds CreateContainer's translation and the checks
// that run before anything is made with any config the wire can carry:
// they may refuse it, never panic.
func FuzzContainerConfig(f *testing.F) {
	for _, c := range []*runtimeapi.ContainerConfig{
		{Metadata: &runtimeapi.ContainerMetadata{Name: "app"}, Image: &runtimeapi.ImageSpec{Image: "busybox"}},
		{Mounts: []*runtimeapi.Mount{{ContainerPath: "/data", HostPath: "/srv", RecursiveReadOnly: true, Readonly: true}},
			Devices: []*runtimeapi.Device{{HostPath: "/dev/null", ContainerPath: "/dev/x"}},
			Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				SeccompProfilePath: "localhost//x", ApparmorProfile: "runtime/default",
				NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_TARGET},
			}}, StopSignal: runtimeapi.Signal_SIGNAL_SIGRTMAXMINUS2},
	} {
		data, err := proto.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c runtimeapi.ContainerConfig
		if proto.Unmarshal(data, &c) != nil {
			return
		}
		cfg, err := containerConfig(&c)
		if err != nil {
			return
		}
		_ = spec.Check(&cfg.Container)
		st := containerStatus(record(t, &c, nil))
		if len(st.GetMounts()) != len(c.GetMounts()) {
			t.Fatalf("status has %d mounts, the config %d", len(st.GetMounts()), len(c.GetMounts()))
		}
	})
}

// FuzzSandboxConfig does the same for RunPodSandbox's translation.
func FuzzSandboxConfig(f *testing.F) {
	data, err := proto.Marshal(podConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, "")
	f.Add([]byte{}, "runc")
	f.Fuzz(func(t *testing.T, data []byte, handler string) {
		var c runtimeapi.PodSandboxConfig
		if proto.Unmarshal(data, &c) != nil {
			return
		}
		_, _ = sandboxConfig(&c, handler)
	})
}
