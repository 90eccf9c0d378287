package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: any file is a configuration or an error naming the file,
// never a panic.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"",
		"log_level = \"debug\"\n[cni]\nconf_dir = \"/etc/cni/net.d\"\n",
		"[runtime.handlers.runc]\npath = \"runc\"\n",
		"[registries.\"registry.k8s.io\"]\nmirrors = [\"127.0.0.1:5000/registry.k8s.io\"]\n",
		"stream_idle_timeout = \"-1s\"\n",
		"[[",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		file := filepath.Join(t.TempDir(), "berth.toml")
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(file, true, DropInDir(file), nil)
		if err == nil && cfg == nil {
			t.Fatal("no config and no error")
		}
	})
}
