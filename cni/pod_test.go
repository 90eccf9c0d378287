package cni

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/config"
)

// berth died after making a pod's netns pin file but before mounting the
// namespace on it: the rollback's DEL is given no netns, not that file,
// on which the plugins fail and never free the IP.
func TestDetachGivesNoNetNSForAnUnmountedPin(t *testing.T) {
	pluginDir := t.TempDir()
	seen := filepath.Join(t.TempDir(), "netns")
	script := "#!/bin/sh\nprintf '%s' \"$CNI_NETNS\" > " + seen + "\n"
	if err := os.WriteFile(filepath.Join(pluginDir, "recorder"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	m := NewManager(config.CNIConfig{ConfDir: t.TempDir(), PluginDirs: []string{pluginDir}, Timeout: config.Duration{Duration: 10 * time.Second}}, t.TempDir())
	pin := filepath.Join(t.TempDir(), "pod-netns")
	if err := os.WriteFile(pin, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	att := Attachment{Network: "a", Config: []byte(conflist("a", "recorder"))}
	if err := m.Detach(Pod{ID: strings.Repeat("a", 64), NetNS: pin}, att); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(seen)
	if err != nil {
		t.Fatalf("the plugin was not run for DEL: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("DEL was given netns %q, a file that is no namespace; want none", got)
	}

	// A real namespace is passed on.
	if err := m.Detach(Pod{ID: strings.Repeat("a", 64), NetNS: "/proc/self/ns/net"}, att); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(seen); string(got) != "/proc/self/ns/net" {
		t.Errorf("DEL was given netns %q; want /proc/self/ns/net", got)
	}
}
