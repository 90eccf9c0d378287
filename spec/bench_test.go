package spec

import "testing"

// BenchmarkBuild builds the spec of a container as kubelet sends one: the
// RuntimeDefault seccomp profile, capabilities dropped, a few volumes,
// resources and a user from the image's passwd file. It is on the path of
// every CreateContainer.
func BenchmarkBuild(b *testing.B) {
	in := testInput(b)
	c := in.Container
	c.Env = []EnvVar{{Key: "A", Value: "1"}, {Key: "B", Value: "2"}}
	c.Security.RunAsUser = ptr(int64(1000))
	c.Security.Seccomp = Profile{Type: RuntimeDefault}
	c.Security.CapDrop = []string{"NET_RAW"}
	for _, dst := range []string{"/data", "/config", "/var/run/secrets/kubernetes.io/serviceaccount"} {
		c.Mounts = append(c.Mounts, Mount{ContainerPath: dst, HostPath: hostDir(b), Readonly: true})
	}
	c.Resources = &Resources{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, MemoryLimit: 256 << 20, OOMScoreAdj: 900}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.Host.Build(in.Input); err != nil {
			b.Fatal(err)
		}
	}
}
