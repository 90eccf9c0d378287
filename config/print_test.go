package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The printed configuration must load back to exactly what was printed, for
// the defaults and for a configuration with every kind of table filled in.
func TestWriteRoundTrip(t *testing.T) {
	withRegistries := Default()
	withRegistries.Registries = map[string]RegistryConfig{
		"registry.k8s.io":  {Mirrors: []string{"127.0.0.1:5000/registry.k8s.io"}},
		"bad.example:5000": {Blocked: true, Insecure: true},
	}
	withRegistries.Runtime.Handlers["kata"] = RuntimeHandler{Path: "/usr/bin/kata", Root: "/run/kata", Args: []string{"--debug"}}
	for name, cfg := range map[string]*Config{"defaults": Default(), "registries": withRegistries} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, cfg); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "berth.toml")
			if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Load(file, true, "", nil)
			if err != nil {
				t.Fatalf("printed config does not load: %v\n%s", err, b.String())
			}
			if !reflect.DeepEqual(normalize(got), normalize(cfg)) {
				t.Fatalf("round trip changed the config:\n got %+v\nwant %+v\n%s", got, cfg, b.String())
			}
		})
	}
}

// Every key is documented: each key line is preceded by a comment line.
func TestWriteDocumentsEveryKey(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, Default()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		if i == 0 || !strings.HasPrefix(lines[i-1], "#") && !strings.HasPrefix(lines[i-1], "[") && !strings.Contains(lines[i-1], "=") {
			t.Errorf("line %d %q has no comment above it", i+1, l)
		}
	}
	for _, want := range []string{"# Persistent state", "[runtime.handlers.runc]", "[cni]", "(reloadable)", `# [registries."example.com"]`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

// normalize maps nil and empty slices and maps to one form: TOML cannot tell them apart.
func normalize(c *Config) *Config {
	n := *c
	n.Registries = nil
	for host, r := range c.Registries {
		if n.Registries == nil {
			n.Registries = map[string]RegistryConfig{}
		}
		if len(r.Mirrors) == 0 {
			r.Mirrors = nil
		}
		n.Registries[host] = r
	}
	n.Runtime.Handlers = map[string]RuntimeHandler{}
	for k, h := range c.Runtime.Handlers {
		if len(h.Args) == 0 {
			h.Args = nil
		}
		n.Runtime.Handlers[k] = h
	}
	if len(n.Pause.Command) == 0 {
		n.Pause.Command = nil
	}
	return &n
}
