package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/cni"
)

// setPath sets the package variable *v to path for the duration of the test.
func setPath(t *testing.T, v *string, path string) {
	old := *v
	*v = path
	t.Cleanup(func() { *v = old })
}

// useHostFile points the package variable *v at a temp file holding content.
func useHostFile(t *testing.T, v *string, content string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "host-file")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	setPath(t, v, path)
}

func TestResolvConf(t *testing.T) {
	const host = "nameserver 192.0.2.53\n"
	useHostFile(t, &hostResolvConf, host)
	tests := []struct {
		name string
		dns  DNSConfig
		want string
	}{
		{"empty copies the host's", DNSConfig{}, host},
		{
			"all fields",
			DNSConfig{Servers: []string{"10.96.0.10", "10.96.0.11"}, Searches: []string{"ns.svc.cluster.local", "svc.cluster.local"}, Options: []string{"ndots:5", "edns0"}},
			"search ns.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.11\noptions ndots:5 edns0\n",
		},
		{"servers only", DNSConfig{Servers: []string{"1.1.1.1"}}, "nameserver 1.1.1.1\n"},
		{"searches only", DNSConfig{Searches: []string{"example.com"}}, "search example.com\n"},
		{"options only", DNSConfig{Options: []string{"ndots:2"}}, "options ndots:2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolvConf(tt.dns)
			if err != nil || got != tt.want {
				t.Fatalf("resolvConf(%+v) = %q, %v; want %q", tt.dns, got, err, tt.want)
			}
		})
	}
}

func TestResolvConfWithoutHostFile(t *testing.T) {
	setPath(t, &hostResolvConf, filepath.Join(t.TempDir(), "missing"))
	if got, err := resolvConf(DNSConfig{}); err != nil || got != "" {
		t.Fatalf("resolvConf with no host file = %q, %v; want \"\", nil", got, err)
	}
}

func TestHostsFile(t *testing.T) {
	const host = "127.0.0.1\tlocalhost\n192.0.2.1\tnode1\n"
	useHostFile(t, &hostHosts, host)
	tests := []struct {
		name        string
		ns          Namespaces
		ip          string
		has, hasNot []string
		exact       string // when set, the whole file
	}{
		{name: "pod with IP", ip: "10.88.0.5", has: []string{"127.0.0.1\tlocalhost\n", "::1\tlocalhost", "10.88.0.5\tweb-0\n"}},
		{name: "pod without IP", has: []string{"127.0.0.1\tlocalhost\n"}, hasNot: []string{"\tweb-0"}},
		{name: "host network", ns: Namespaces{HostNetwork: true}, ip: "10.88.0.5", exact: host},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hostsFile(&Config{Namespaces: tt.ns}, "web-0", tt.ip)
			if err != nil {
				t.Fatal(err)
			}
			if tt.exact != "" && got != tt.exact {
				t.Fatalf("hosts = %q; want %q", got, tt.exact)
			}
			for _, s := range tt.has {
				if !strings.Contains(got, s) {
					t.Errorf("hosts %q lacks %q", got, s)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(got, s) {
					t.Errorf("hosts %q has %q", got, s)
				}
			}
		})
	}
}

func TestHostsFileHostNetworkWithoutHostFile(t *testing.T) {
	setPath(t, &hostHosts, filepath.Join(t.TempDir(), "missing"))
	if _, err := hostsFile(&Config{Namespaces: Namespaces{HostNetwork: true}}, "h", ""); err == nil {
		t.Fatal("want an error when the host's hosts file cannot be read")
	}
}

func TestPodHostname(t *testing.T) {
	node, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"hostname field", Config{Name: "web-0", Hostname: "web"}, "web"},
		{"none asked for", Config{Name: "web-0"}, node},
		// On the host network the pod shares the node's UTS namespace.
		{"host network", Config{Name: "web-0", Namespaces: Namespaces{HostNetwork: true}}, node},
		{"host network ignores hostname field", Config{Name: "web-0", Hostname: "web", Namespaces: Namespaces{HostNetwork: true}}, node},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := podHostname(&tt.cfg)
			if err != nil || got != tt.want {
				t.Fatalf("podHostname = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestWritePodFiles(t *testing.T) {
	useHostFile(t, &hostResolvConf, "nameserver 192.0.2.53\n")
	rec := &Record{
		Dir:     t.TempDir(),
		Config:  Config{Name: "web-0", Hostname: "web-0", DNS: DNSConfig{Servers: []string{"10.96.0.10"}}},
		Network: cni.Attachment{IPs: []string{"10.88.0.5", "fd00::5"}},
	}
	// A second write replaces the files in place (a restart rewrites them).
	for range 2 {
		if err := writePodFiles(rec); err != nil {
			t.Fatal(err)
		}
	}
	want := []struct {
		path, content string
		whole         bool // content is the whole file, not a part of it
	}{
		{rec.HostnamePath(), "web-0\n", true},
		{rec.HostsPath(), "10.88.0.5\tweb-0\n", false},
		{rec.ResolvConfPath(), "nameserver 10.96.0.10\n", true},
	}
	for _, w := range want {
		fi, err := os.Stat(w.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != 0o644 {
			t.Errorf("%s: mode %v; want 0644", w.path, fi.Mode())
		}
		data, err := os.ReadFile(w.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(data); got != w.content && (w.whole || !strings.Contains(got, w.content)) {
			t.Errorf("%s = %q; want %q (whole file: %v)", w.path, got, w.content, w.whole)
		}
	}
	entries, err := os.ReadDir(rec.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("leftover temp file %s", e.Name())
		}
	}
	if len(entries) != len(want) {
		t.Errorf("dir holds %d entries; want %d", len(entries), len(want))
	}
}
