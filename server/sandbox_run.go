package server

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/cni"
	"github.com/berth-dev/berth/sandbox"
)

// RunPodSandbox creates and starts a pod sandbox: its network namespace and
// CNI attachment, its pause process and its files.
func (s *Server) RunPodSandbox(ctx context.Context, req *runtimeapi.RunPodSandboxRequest) (*runtimeapi.RunPodSandboxResponse, error) {
	cfg, err := sandboxConfig(req.GetConfig(), req.GetRuntimeHandler())
	if err != nil {
		return nil, err
	}
	id, err := s.sandboxes.Run(ctx, cfg)
	if err != nil {
		return nil, toStatus(err)
	}
	if rec, err := s.sandboxes.Status(id); err == nil {
		recordStart(ctx, podStartSteps, rec.Startup, "berth.sandbox", id, time.Time{})
	}
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: id}, nil
}

// sandboxConfig translates the CRI config into the sandbox package's.
func sandboxConfig(c *runtimeapi.PodSandboxConfig, handler string) (sandbox.Config, error) {
	if c == nil || c.GetMetadata() == nil {
		return sandbox.Config{}, invalid("config with metadata is required")
	}
	md := c.GetMetadata()
	linux := c.GetLinux()
	sc := linux.GetSecurityContext()
	ns, err := podNamespaces(sc.GetNamespaceOptions())
	if err != nil {
		return sandbox.Config{}, err
	}
	if err := checkLogDirectory(c.GetLogDirectory()); err != nil {
		return sandbox.Config{}, err
	}
	cfg := sandbox.Config{
		Name:        md.GetName(),
		Namespace:   md.GetNamespace(),
		UID:         md.GetUid(),
		Attempt:     md.GetAttempt(),
		Hostname:    c.GetHostname(),
		LogDir:      c.GetLogDirectory(),
		Labels:      c.GetLabels(),
		Annotations: c.GetAnnotations(),
		DNS: sandbox.DNSConfig{
			Servers:  c.GetDnsConfig().GetServers(),
			Searches: c.GetDnsConfig().GetSearches(),
			Options:  c.GetDnsConfig().GetOptions(),
		},
		CgroupParent:   linux.GetCgroupParent(),
		Sysctls:        linux.GetSysctls(),
		Namespaces:     ns,
		Privileged:     sc.GetPrivileged(),
		RuntimeHandler: handler,
	}
	for _, p := range c.GetPortMappings() {
		if p.GetContainerPort() <= 0 || p.GetContainerPort() > 65535 || p.GetHostPort() < 0 || p.GetHostPort() > 65535 {
			return sandbox.Config{}, invalid("port mapping %d:%d is out of range", p.GetHostPort(), p.GetContainerPort())
		}
		if p.GetHostPort() == 0 {
			continue // no host port: nothing to map (the container port is just informative)
		}
		cfg.Ports = append(cfg.Ports, cni.PortMapping{
			HostPort:      p.GetHostPort(),
			ContainerPort: p.GetContainerPort(),
			Protocol:      protocolName(p.GetProtocol()),
			HostIP:        p.GetHostIp(),
		})
	}
	return cfg, nil
}

// checkLogDirectory refuses a pod log directory that is relative or has
// "." or ".." in it: container logs are created below it, and must land
// where it points ("" keeps them in the bundle).
func checkLogDirectory(dir string) error {
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) {
		return invalid("log directory %q must be an absolute path", dir)
	}
	for _, part := range strings.Split(dir, "/") {
		if part == "." || part == ".." {
			return invalid("log directory %q must not contain %q", dir, part)
		}
	}
	return nil
}

func protocolName(p runtimeapi.Protocol) string {
	switch p {
	case runtimeapi.Protocol_UDP:
		return "udp"
	case runtimeapi.Protocol_SCTP:
		return "sctp"
	}
	return "tcp"
}

// podNamespaces reads the pod-level namespace options.
func podNamespaces(o *runtimeapi.NamespaceOption) (sandbox.Namespaces, error) {
	if o.GetPid() == runtimeapi.NamespaceMode_TARGET {
		return sandbox.Namespaces{}, invalid("pid namespace mode TARGET is for containers, not pods")
	}
	userNS, err := podUserNS(o.GetUsernsOptions())
	if err != nil {
		return sandbox.Namespaces{}, err
	}
	return sandbox.Namespaces{
		HostNetwork: o.GetNetwork() == runtimeapi.NamespaceMode_NODE,
		HostPID:     o.GetPid() == runtimeapi.NamespaceMode_NODE,
		HostIPC:     o.GetIpc() == runtimeapi.NamespaceMode_NODE,
		SharedPID:   o.GetPid() == runtimeapi.NamespaceMode_POD,
		UserNS:      userNS,
	}, nil
}

// podUserNS checks the pod's user namespace options: NODE (or none) is the
// host's; POD needs one UID and one GID mapping that map container ID 0.
func podUserNS(u *runtimeapi.UserNamespace) (*sandbox.UserNS, error) {
	if u == nil {
		return nil, nil // no options: the host's (POD is only the zero value)
	}
	switch u.GetMode() {
	case runtimeapi.NamespaceMode_NODE:
		return nil, nil
	case runtimeapi.NamespaceMode_POD:
	default:
		return nil, invalid("user namespace mode %s is not supported: use NODE or POD", u.GetMode())
	}
	uids, err := idMaps("uid", u.GetUids())
	if err != nil {
		return nil, err
	}
	gids, err := idMaps("gid", u.GetGids())
	if err != nil {
		return nil, err
	}
	return &sandbox.UserNS{UIDs: uids, GIDs: gids}, nil
}

func idMaps(kind string, in []*runtimeapi.IDMapping) ([]sandbox.IDMap, error) {
	if len(in) != 1 {
		return nil, invalid("user namespace: exactly one %s mapping is supported, got %d", kind, len(in))
	}
	m := in[0]
	if m.GetContainerId() != 0 {
		return nil, invalid("user namespace: the %s mapping must map container ID 0, it starts at %d", kind, m.GetContainerId())
	}
	if m.GetLength() == 0 {
		return nil, invalid("user namespace: the %s mapping is empty", kind)
	}
	return []sandbox.IDMap{{Container: 0, Host: m.GetHostId(), Size: m.GetLength()}}, nil
}
