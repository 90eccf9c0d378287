package cni

import (
	"context"
	"fmt"
	"sort"

	"github.com/containernetworking/cni/libcni"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/config"
)

// ifName is the interface every pod gets, as with kubelet's other runtimes.
const ifName = "eth0"

// Pod is what CNI needs to know about a pod sandbox.
type Pod struct {
	ID        string // sandbox ID: the CNI container ID
	Name      string
	Namespace string
	UID       string
	NetNS     string // path of the pinned network namespace
	Ports     []PortMapping
	Bandwidth *Bandwidth
}

// PortMapping is a host port, in the form of the portMappings capability.
type PortMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// Bandwidth limits in bits per second (burst in bits), in the form of the
// bandwidth capability.
type Bandwidth struct {
	IngressRate  uint64 `json:"ingressRate,omitempty"`
	IngressBurst uint64 `json:"ingressBurst,omitempty"`
	EgressRate   uint64 `json:"egressRate,omitempty"`
	EgressBurst  uint64 `json:"egressBurst,omitempty"`
}

// Attachment is a pod's network: the one chosen for it (its name and its
// configuration, saved with the pod before ADD runs, so that DEL can run on
// it whatever the config dir holds by then) and, once ADD succeeded, its
// IPs, IPv4 first (the first is the pod's primary IP).
type Attachment struct {
	Network string   `json:"network"`
	IPs     []string `json:"ips"`
	Config  []byte   `json:"config,omitempty"` // the conflist ADD runs with
}

// Choose picks the network a new pod joins: the current one.
func (m *Manager) Choose() (Attachment, error) {
	list, err := m.Network()
	if err != nil {
		return Attachment{}, fmt.Errorf("pod network not ready: %w", err)
	}
	return Attachment{Network: list.Name, Config: list.Bytes}, nil
}

// Attach runs CNI ADD for the pod on the network att names (from Choose)
// and records its IPs in att. On failure it runs DEL, so no IP or rule is
// left behind, and says which plugin failed and why.
func (m *Manager) Attach(ctx context.Context, pod Pod, att *Attachment) error {
	list, err := libcni.NetworkConfFromBytes(att.Config)
	if err != nil {
		return fmt.Errorf("CNI network %q: %w", att.Network, err)
	}
	cfg := m.config()
	rt := runtimeConf(pod)
	addCtx, cancel := context.WithTimeout(ctx, cfg.Timeout.Duration)
	defer cancel()
	res, err := m.client(cfg).AddNetworkList(addCtx, list, rt)
	if err != nil {
		err = fmt.Errorf("CNI network %q: %w", list.Name, err)
		if derr := m.del(list, rt, cfg); derr != nil {
			logrus.WithError(derr).WithField("sandbox", pod.ID).Warn("CNI DEL after a failed ADD")
		}
		return err
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		m.del(list, rt, cfg)
		return fmt.Errorf("CNI network %q: result: %w", list.Name, err)
	}
	att.IPs = att.IPs[:0]
	for _, ip := range r.IPs {
		att.IPs = append(att.IPs, ip.Address.IP.String())
	}
	sort.SliceStable(att.IPs, func(i, j int) bool { return isV4(att.IPs[i]) && !isV4(att.IPs[j]) })
	return nil
}

// Detach runs CNI DEL for the pod on the network it was attached to (or
// chosen for, when berth died during ADD: DEL frees whatever ADD got to),
// with the configuration used at ADD time: libcni's cache of it, else the
// one saved with the pod, else (records from before berth saved it) the
// current one when it has the same name. A network namespace that is
// already gone is fine: the plugins still free the IP.
func (m *Manager) Detach(pod Pod, att Attachment) error {
	cfg := m.config()
	if !isNetNS(pod.NetNS) {
		pod.NetNS = ""
	}
	rt := runtimeConf(pod)
	c := m.client(cfg)
	network := att.Network
	list := &libcni.NetworkConfigList{Name: network}
	var err error
	if data, _, cerr := c.GetNetworkListCachedConfig(list, rt); cerr == nil && data != nil {
		list, err = libcni.NetworkConfFromBytes(data)
	} else if att.Config != nil {
		list, err = libcni.NetworkConfFromBytes(att.Config)
	} else if cur, cerr := m.Network(); cerr == nil && cur.Name == network {
		list = cur
	} else {
		logrus.WithFields(logrus.Fields{"sandbox": pod.ID, "network": network}).
			Warn("CNI network config gone and nothing cached; cannot run DEL")
		return nil
	}
	if err != nil {
		return fmt.Errorf("CNI network %q: config: %w", network, err)
	}
	if err := m.del(list, rt, cfg); err != nil {
		return fmt.Errorf("CNI network %q: %w", network, err)
	}
	return nil
}

// isNetNS says whether path is a namespace. A pin's file that berth made
// but died before mounting the namespace on is not one, and the plugins
// would fail DEL on it ("unknown FS magic") and never free the IP.
func isNetNS(path string) bool {
	var fs unix.Statfs_t
	return path != "" && unix.Statfs(path, &fs) == nil && fs.Type == unix.NSFS_MAGIC
}

func (m *Manager) del(list *libcni.NetworkConfigList, rt *libcni.RuntimeConf, cfg config.CNIConfig) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout.Duration)
	defer cancel()
	return m.client(cfg).DelNetworkList(ctx, list, rt)
}

func (m *Manager) client(cfg config.CNIConfig) *libcni.CNIConfig {
	return libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, m.cacheDir, &pluginExec{})
}

func runtimeConf(pod Pod) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{
		ContainerID: pod.ID,
		NetNS:       pod.NetNS,
		IfName:      ifName,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", pod.Namespace},
			{"K8S_POD_NAME", pod.Name},
			{"K8S_POD_INFRA_CONTAINER_ID", pod.ID},
			{"K8S_POD_UID", pod.UID},
		},
		CapabilityArgs: map[string]any{},
	}
	if len(pod.Ports) > 0 {
		rt.CapabilityArgs["portMappings"] = pod.Ports
	}
	if pod.Bandwidth != nil {
		rt.CapabilityArgs["bandwidth"] = pod.Bandwidth
	}
	return rt
}

func isV4(ip string) bool {
	for i := 0; i < len(ip); i++ {
		if ip[i] == ':' {
			return false
		}
	}
	return true
}
