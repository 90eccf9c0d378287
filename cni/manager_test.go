package cni

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/config"
)

func writePlugin(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func conflist(name string, plugins ...string) string {
	var ps []string
	for _, p := range plugins {
		ps = append(ps, `{"type":"`+p+`"}`)
	}
	return `{"cniVersion":"1.0.0","name":"` + name + `","plugins":[` + strings.Join(ps, ",") + `]}`
}

// NetworkReady must follow the config directory without a restart.
func TestManagerFollowsConfDir(t *testing.T) {
	confDir, pluginDir := t.TempDir(), t.TempDir()
	writePlugin(t, pluginDir, "bridge")
	writePlugin(t, pluginDir, "portmap")
	m := NewManager(config.CNIConfig{ConfDir: confDir, PluginDirs: []string{filepath.Join(t.TempDir(), "none"), pluginDir}}, t.TempDir())

	if err := m.Ready(); err == nil || !strings.Contains(err.Error(), "no CNI network config found") {
		t.Fatalf("empty dir: want not ready, got %v", err)
	}

	// A network whose plugin is missing is not ready, and the reason names it.
	if err := os.WriteFile(filepath.Join(confDir, "10-a.conflist"), []byte(conflist("a", "bridge", "firewall")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Ready(); err == nil || !strings.Contains(err.Error(), `plugin "firewall" not found`) {
		t.Fatalf("missing plugin: want not ready naming it, got %v", err)
	}

	// A valid one later in name order is taken.
	if err := os.WriteFile(filepath.Join(confDir, "20-b.conflist"), []byte(conflist("b", "bridge", "portmap")), 0o644); err != nil {
		t.Fatal(err)
	}
	net, err := m.Network()
	if err != nil || net.Name != "b" {
		t.Fatalf("want network b, got %v, %v", net, err)
	}

	// Removing it makes networking not ready again.
	if err := os.Remove(filepath.Join(confDir, "20-b.conflist")); err != nil {
		t.Fatal(err)
	}
	if m.Ready() == nil {
		t.Fatal("want not ready after the valid config went away")
	}
}

func TestManagerDefaultNetworkAndSingleConf(t *testing.T) {
	confDir, pluginDir := t.TempDir(), t.TempDir()
	writePlugin(t, pluginDir, "bridge")
	if err := os.WriteFile(filepath.Join(confDir, "10-a.conflist"), []byte(conflist("a", "bridge")), 0o644); err != nil {
		t.Fatal(err)
	}
	single := `{"cniVersion":"0.4.0","name":"pods","type":"bridge"}`
	if err := os.WriteFile(filepath.Join(confDir, "99-pods.conf"), []byte(single), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "00-broken.conflist"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}

	m := NewManager(config.CNIConfig{ConfDir: confDir, PluginDirs: []string{pluginDir}, DefaultNetwork: "pods"}, t.TempDir())
	net, err := m.Network()
	if err != nil || net.Name != "pods" || len(net.Plugins) != 1 {
		t.Fatalf("want single-plugin network pods, got %+v, %v", net, err)
	}

	m.Reload(config.CNIConfig{ConfDir: confDir, PluginDirs: []string{pluginDir}, DefaultNetwork: "nope"})
	if err := m.Ready(); err == nil || !strings.Contains(err.Error(), `"nope" not found`) {
		t.Fatalf("want unknown default network error, got %v", err)
	}

	m.Reload(config.CNIConfig{ConfDir: confDir, PluginDirs: []string{pluginDir}})
	net, err = m.Network()
	if err != nil || net.Name != "a" {
		t.Fatalf("broken file must be passed over for the next valid one, got %v, %v", net, err)
	}
}

func TestCheckArgs(t *testing.T) {
	if err := CheckArgs("web-0", "default", "6f1c2e3a-0000-4000-8000-000000000001"); err != nil {
		t.Fatalf("a Kubernetes pod's metadata: %v", err)
	}
	for _, bad := range [][3]string{
		{"web;IgnoreUnknown=1", "default", "uid"},
		{"web", "default;K8S_POD_NAME=other", "uid"},
		{"web", "default", "uid=x"},
		{"web\x00", "default", "uid"},
	} {
		if err := CheckArgs(bad[0], bad[1], bad[2]); !errors.Is(err, ErrInvalidArg) {
			t.Errorf("CheckArgs(%q) = %v, want ErrInvalidArg", bad, err)
		}
	}
}

// TestManagerState: `crictl info` shows the network pods join, or why none.
func TestManagerState(t *testing.T) {
	confDir, pluginDir := t.TempDir(), t.TempDir()
	writePlugin(t, pluginDir, "bridge")
	writePlugin(t, pluginDir, "portmap")
	m := NewManager(config.CNIConfig{ConfDir: confDir, PluginDirs: []string{pluginDir}}, t.TempDir())
	if st := m.State(); st.Network != "" || !strings.Contains(st.Error, "no CNI network config found") || st.ConfDir != confDir {
		t.Fatalf("empty dir: %+v", st)
	}
	if err := os.WriteFile(filepath.Join(confDir, "10-pods.conflist"), []byte(conflist("pods", "bridge", "portmap")), 0o644); err != nil {
		t.Fatal(err)
	}
	st := m.State()
	if st.Network != "pods" || st.CNIVersion != "1.0.0" || strings.Join(st.Plugins, ",") != "bridge,portmap" || st.Error != "" {
		t.Fatalf("a valid network: %+v", st)
	}
}
