package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Network is a private CNI network for a test: its own bridge, subnet and
// name, so tests never share IPs or iptables chains with each other or with
// the node's own pods.
type Network struct {
	Name    string
	Bridge  string
	Subnet  string // e.g. 10.123.0.0/24
	ConfDir string // holds the conflist; pass it as Options.CNIConfDir
	// PluginDir holds the test's own plugins (see AddPlugin); it is searched
	// before the Debian plugins.
	PluginDir string
}

// NewNetwork writes a bridge + host-local + portmap conflist, followed by
// the named extra plugins (added with AddPlugin), into a fresh directory.
func NewNetwork(t testing.TB, name, bridge, subnet string, extra ...string) *Network {
	t.Helper()
	n := &Network{Name: name, Bridge: bridge, Subnet: subnet, ConfDir: t.TempDir(), PluginDir: t.TempDir()}
	n.SetChain(t, "bridge", extra...)
	// A bridge left by an earlier run keeps its address: the bridge plugin
	// refuses it if the test's subnet changed since.
	deleteLink(bridge)
	t.Cleanup(func() {
		// host-local's allocations of this network; the tests check they are
		// gone before this runs. The bridge goes too (CNI DEL leaves it).
		os.RemoveAll(filepath.Join("/var/lib/cni/networks", name))
		deleteLink(bridge)
	})
	return n
}

// deleteLink removes a network link by name; one that is not there is fine.
func deleteLink(name string) {
	_ = exec.Command("ip", "link", "delete", name).Run()
}

// SetChain rewrites the conflist: the bridge plugin (or a wrapper of it
// named bridgeType), portmap, then the extra plugins.
func (n *Network) SetChain(t testing.TB, bridgeType string, extra ...string) {
	t.Helper()
	plugins := []any{
		map[string]any{
			"type": bridgeType, "bridge": n.Bridge, "isGateway": true, "ipMasq": true, "hairpinMode": true,
			"ipam": map[string]any{
				"type":   "host-local",
				"routes": []any{map[string]any{"dst": "0.0.0.0/0"}},
				"ranges": []any{[]any{map[string]any{"subnet": n.Subnet}}},
			},
		},
		map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}},
	}
	for _, p := range extra {
		plugins = append(plugins, map[string]any{"type": p})
	}
	data, err := json.MarshalIndent(map[string]any{"cniVersion": "1.0.0", "name": n.Name, "plugins": plugins}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.ConfDir, "10-"+n.Name+".conflist"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// AddPlugin installs a shell-script CNI plugin named name in PluginDir.
func (n *Network) AddPlugin(t testing.TB, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(n.PluginDir, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// Config is the TOML berth needs to use the network's plugins.
func (n *Network) Config(timeout string) string {
	return fmt.Sprintf("plugin_dirs = [%q, \"/usr/lib/cni\"]\ntimeout = %q\n", n.PluginDir, timeout)
}

// Allocations lists the IPs host-local holds for this network.
func (n *Network) Allocations() []string {
	entries, _ := os.ReadDir(filepath.Join("/var/lib/cni/networks", n.Name))
	var ips []string
	for _, e := range entries {
		if name := e.Name(); name != "lock" && !strings.HasPrefix(name, "last_reserved_ip") {
			ips = append(ips, name)
		}
	}
	return ips
}

// Gate makes the network's bridge plugin wait on ADD until the returned
// open function is called. Each waiting ADD first creates a file named after
// its sandbox ID in the returned directory, so a test knows it is in CNI.
func (n *Network) Gate(t testing.TB) (waiting string, open func()) {
	t.Helper()
	dir := t.TempDir()
	gate := filepath.Join(dir, "open")
	waiting = filepath.Join(dir, "waiting")
	if err := os.Mkdir(waiting, 0o755); err != nil {
		t.Fatal(err)
	}
	n.AddPlugin(t, "gated-bridge", fmt.Sprintf(`if [ "$CNI_COMMAND" = ADD ]; then
	touch %q/"$CNI_CONTAINERID"
	while [ ! -e %q ]; do sleep 0.05; done
fi
exec /usr/lib/cni/bridge
`, waiting, gate))
	n.SetChain(t, "gated-bridge")
	return waiting, func() {
		if err := os.WriteFile(gate, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
