//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeInstall: `make install` puts the binary, the config, the unit,
// a CNI network and both man pages in place (under DESTDIR here), and the
// config it writes loads.
func TestMakeInstall(t *testing.T) {
	dest := t.TempDir()
	out, err := exec.Command("make", "-C", "../..", "install", "DESTDIR="+dest).CombinedOutput()
	if err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	files := map[string]string{
		"usr/local/bin/berth":                   "",
		"etc/berth/berth.toml":                  "# berth configuration (TOML).",
		"etc/systemd/system/berth.service":      "Type=notify",
		"etc/cni/net.d/10-berth.conflist":       `"cniVersion"`,
		"usr/local/share/man/man8/berth.8":      ".TH berth 8",
		"usr/local/share/man/man5/berth.toml.5": ".TH berth.toml 5",
	}
	for rel, want := range files {
		data, err := os.ReadFile(filepath.Join(dest, rel))
		if err != nil {
			t.Errorf("make install left no %s: %v", rel, err)
			continue
		}
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q", rel, want)
		}
	}
	bin := filepath.Join(dest, "usr/local/bin/berth")
	if out, err := exec.Command(bin, "--config", filepath.Join(dest, "etc/berth/berth.toml"), "config", "--effective").CombinedOutput(); err != nil {
		t.Fatalf("the installed config does not load: %v\n%s", err, out)
	}
	// A second install keeps the operator's config.
	cfg := filepath.Join(dest, "etc/berth/berth.toml")
	if err := os.WriteFile(cfg, []byte("log_level = \"debug\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("make", "-C", "../..", "install", "DESTDIR="+dest).CombinedOutput(); err != nil {
		t.Fatalf("make install again: %v\n%s", err, out)
	}
	if data, _ := os.ReadFile(cfg); string(data) != "log_level = \"debug\"\n" {
		t.Fatalf("a second make install replaced the operator's config:\n%s", data)
	}
}
