package server

import (
	"reflect"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/cni"
	"github.com/berth-dev/berth/sandbox"
)

func podConfig() *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "web-0", Namespace: "default", Uid: "uid-1", Attempt: 2},
	}
}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("error %v has code %v; want %v", err, got, code)
	}
}

func TestSandboxConfigNeedsMetadata(t *testing.T) {
	for name, c := range map[string]*runtimeapi.PodSandboxConfig{
		"nil config":   nil,
		"nil metadata": {Hostname: "web"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := sandboxConfig(c, "")
			wantCode(t, err, codes.InvalidArgument)
		})
	}
}

func TestSandboxConfigCopiesFields(t *testing.T) {
	c := podConfig()
	c.Hostname = "web"
	c.LogDirectory = "/var/log/pods/default_web-0_uid-1"
	c.Labels = map[string]string{"app": "web"}
	c.Annotations = map[string]string{"kubernetes.io/ingress-bandwidth": "10M"}
	c.DnsConfig = &runtimeapi.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"svc.cluster.local"}, Options: []string{"ndots:5"}}
	c.Linux = &runtimeapi.LinuxPodSandboxConfig{
		CgroupParent:    "/kubepods/burstable/pod1",
		Sysctls:         map[string]string{"net.core.somaxconn": "1024"},
		SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{Privileged: true},
	}
	got, err := sandboxConfig(c, "kata")
	if err != nil {
		t.Fatal(err)
	}
	want := sandbox.Config{
		Name:           "web-0",
		Namespace:      "default",
		UID:            "uid-1",
		Attempt:        2,
		Hostname:       "web",
		LogDir:         "/var/log/pods/default_web-0_uid-1",
		Labels:         map[string]string{"app": "web"},
		Annotations:    map[string]string{"kubernetes.io/ingress-bandwidth": "10M"},
		DNS:            sandbox.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"svc.cluster.local"}, Options: []string{"ndots:5"}},
		CgroupParent:   "/kubepods/burstable/pod1",
		Sysctls:        map[string]string{"net.core.somaxconn": "1024"},
		Namespaces:     sandbox.Namespaces{SharedPID: true}, // POD is the zero NamespaceMode
		Privileged:     true,
		RuntimeHandler: "kata",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sandboxConfig =\n%+v\nwant\n%+v", got, want)
	}
}

func TestSandboxConfigPorts(t *testing.T) {
	tests := []struct {
		name  string
		ports []*runtimeapi.PortMapping
		want  []cni.PortMapping
		code  codes.Code // OK: no error
	}{
		{name: "none"},
		{
			name: "protocols",
			ports: []*runtimeapi.PortMapping{
				{Protocol: runtimeapi.Protocol_TCP, ContainerPort: 80, HostPort: 8080},
				{Protocol: runtimeapi.Protocol_UDP, ContainerPort: 53, HostPort: 5353, HostIp: "127.0.0.1"},
				{Protocol: runtimeapi.Protocol_SCTP, ContainerPort: 9, HostPort: 9999},
			},
			want: []cni.PortMapping{
				{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
				{HostPort: 5353, ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"},
				{HostPort: 9999, ContainerPort: 9, Protocol: "sctp"},
			},
		},
		{
			name:  "no host port dropped",
			ports: []*runtimeapi.PortMapping{{ContainerPort: 80}, {ContainerPort: 443, HostPort: 8443}},
			want:  []cni.PortMapping{{HostPort: 8443, ContainerPort: 443, Protocol: "tcp"}},
		},
		{name: "container port zero", ports: []*runtimeapi.PortMapping{{ContainerPort: 0, HostPort: 80}}, code: codes.InvalidArgument},
		{name: "container port too big", ports: []*runtimeapi.PortMapping{{ContainerPort: 65536}}, code: codes.InvalidArgument},
		{name: "negative host port", ports: []*runtimeapi.PortMapping{{ContainerPort: 80, HostPort: -1}}, code: codes.InvalidArgument},
		{name: "host port too big", ports: []*runtimeapi.PortMapping{{ContainerPort: 80, HostPort: 70000}}, code: codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := podConfig()
			c.PortMappings = tt.ports
			got, err := sandboxConfig(c, "")
			wantCode(t, err, tt.code)
			if err == nil && !reflect.DeepEqual(got.Ports, tt.want) {
				t.Fatalf("ports = %+v; want %+v", got.Ports, tt.want)
			}
		})
	}
}

func TestPodNamespaces(t *testing.T) {
	const (
		pod       = runtimeapi.NamespaceMode_POD
		container = runtimeapi.NamespaceMode_CONTAINER
		node      = runtimeapi.NamespaceMode_NODE
		target    = runtimeapi.NamespaceMode_TARGET
	)
	tests := []struct {
		name string
		opts *runtimeapi.NamespaceOption
		want sandbox.Namespaces
		code codes.Code
	}{
		// POD is the zero NamespaceMode: no options mean the pod's own namespaces.
		{name: "no options", opts: nil, want: sandbox.Namespaces{SharedPID: true}},
		{name: "all pod", opts: &runtimeapi.NamespaceOption{Network: pod, Pid: pod, Ipc: pod}, want: sandbox.Namespaces{SharedPID: true}},
		{name: "pid per container", opts: &runtimeapi.NamespaceOption{Pid: container}},
		{
			name: "all node",
			opts: &runtimeapi.NamespaceOption{Network: node, Pid: node, Ipc: node},
			want: sandbox.Namespaces{HostNetwork: true, HostPID: true, HostIPC: true},
		},
		{name: "host network only", opts: &runtimeapi.NamespaceOption{Network: node, Pid: container}, want: sandbox.Namespaces{HostNetwork: true}},
		{name: "host IPC only", opts: &runtimeapi.NamespaceOption{Ipc: node, Pid: container}, want: sandbox.Namespaces{HostIPC: true}},
		{name: "pid target", opts: &runtimeapi.NamespaceOption{Pid: target, TargetId: "c1"}, code: codes.InvalidArgument},
		{name: "userns pod", opts: &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: pod}}, code: codes.InvalidArgument},
		{name: "userns node", opts: &runtimeapi.NamespaceOption{Pid: container, UsernsOptions: &runtimeapi.UserNamespace{Mode: node}}},
		{name: "userns container", opts: &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: container}}, code: codes.InvalidArgument},
		{name: "userns target", opts: &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: target}}, code: codes.InvalidArgument},
		{
			name: "userns pod mapped",
			opts: &runtimeapi.NamespaceOption{Pid: container, UsernsOptions: &runtimeapi.UserNamespace{Mode: pod, Uids: idMap(0, 1000, 65536), Gids: idMap(0, 2000, 65536)}},
			want: sandbox.Namespaces{UserNS: &sandbox.UserNS{
				UIDs: []sandbox.IDMap{{Container: 0, Host: 1000, Size: 65536}},
				GIDs: []sandbox.IDMap{{Container: 0, Host: 2000, Size: 65536}},
			}},
		},
		{
			name: "userns two mappings",
			opts: &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: pod, Uids: append(idMap(0, 1000, 10), idMap(10, 5000, 10)...), Gids: idMap(0, 1000, 10)}},
			code: codes.InvalidArgument,
		},
		{
			name: "userns without container ID 0",
			opts: &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: pod, Uids: idMap(1, 1000, 10), Gids: idMap(1, 1000, 10)}},
			code: codes.InvalidArgument,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := podNamespaces(tt.opts)
			wantCode(t, err, tt.code)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("podNamespaces = %+v; want %+v", got, tt.want)
			}
			// sandboxConfig takes the same path through the security context.
			c := podConfig()
			c.Linux = &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: tt.opts}}
			cfg, err := sandboxConfig(c, "")
			wantCode(t, err, tt.code)
			if !reflect.DeepEqual(cfg.Namespaces, tt.want) {
				t.Fatalf("sandboxConfig namespaces = %+v; want %+v", cfg.Namespaces, tt.want)
			}
		})
	}
}

func idMap(container, host, size uint32) []*runtimeapi.IDMapping {
	return []*runtimeapi.IDMapping{{ContainerId: container, HostId: host, Length: size}}
}

// Container logs are created below the pod's log directory: it must be
// absolute, without "." or "..".
func TestSandboxConfigLogDirectory(t *testing.T) {
	for dir, code := range map[string]codes.Code{
		"":                                  codes.OK,
		"/var/log/pods/default_web-0_uid-1": codes.OK,
		"/var/log/pods/x/":                  codes.OK,
		"var/log/pods/x":                    codes.InvalidArgument,
		"/var/log/pods/../../etc":           codes.InvalidArgument,
		"/var/log/./pods":                   codes.InvalidArgument,
	} {
		c := podConfig()
		c.LogDirectory = dir
		_, err := sandboxConfig(c, "")
		if code == codes.OK && err != nil {
			t.Errorf("log directory %q: %v", dir, err)
		} else if code != codes.OK {
			wantCode(t, err, code)
		}
	}
}
