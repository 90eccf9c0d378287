package sandbox

import (
	"fmt"
	"os"
	"strings"

	"github.com/berth-dev/berth/internal/fsutil"
)

// Where a pod with no DNS config, or on the host network, gets its files.
var (
	hostResolvConf = "/etc/resolv.conf"
	hostHosts      = "/etc/hosts"
)

// writePodFiles writes the hostname, hosts and resolv.conf files the pod's
// containers bind-mount.
func writePodFiles(rec *Record) error {
	cfg := &rec.Config
	hostname, err := podHostname(cfg)
	if err != nil {
		return err
	}
	if err := writeFile(rec.HostnamePath(), hostname+"\n"); err != nil {
		return err
	}
	hosts, err := hostsFile(cfg, hostname, rec.PrimaryIP())
	if err != nil {
		return err
	}
	if err := writeFile(rec.HostsPath(), hosts); err != nil {
		return err
	}
	resolv, err := resolvConf(cfg.DNS)
	if err != nil {
		return err
	}
	return writeFile(rec.ResolvConfPath(), resolv)
}

// podHostname is the pod's hostname: the one asked for, else (and always
// on the host network, whose UTS namespace the pod shares) the node's.
func podHostname(cfg *Config) (string, error) {
	if cfg.Namespaces.HostNetwork || cfg.Hostname == "" {
		return os.Hostname()
	}
	return cfg.Hostname, nil
}

func hostsFile(cfg *Config, hostname, ip string) (string, error) {
	if cfg.Namespaces.HostNetwork {
		data, err := os.ReadFile(hostHosts)
		if err != nil {
			return "", fmt.Errorf("read host's hosts file: %w", err)
		}
		return string(data), nil
	}
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	if ip != "" {
		fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
	}
	return b.String(), nil
}

// resolvConf renders the pod's DNS config, or copies the host's when the
// config is empty (kubelet's "Default" DNS policy sends the host's anyway).
func resolvConf(dns DNSConfig) (string, error) {
	if len(dns.Servers) == 0 && len(dns.Searches) == 0 && len(dns.Options) == 0 {
		data, err := os.ReadFile(hostResolvConf)
		if err != nil && !os.IsNotExist(err) {
			return "", fmt.Errorf("read host's resolv.conf: %w", err)
		}
		return string(data), nil
	}
	var b strings.Builder
	if len(dns.Searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(dns.Searches, " "))
	}
	for _, s := range dns.Servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(dns.Options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(dns.Options, " "))
	}
	return b.String(), nil
}

// writeFile replaces path atomically; containers see a whole file or none.
func writeFile(path, content string) error {
	if err := fsutil.ReplaceFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
