package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadWithoutFileGivesDefaults(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "berth.toml")
	cfg, err := Load(file, false, DropInDir(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != DefaultListen || cfg.Runtime.DefaultHandler != "runc" || cfg.CgroupDriver != CgroupfsDriver {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	if _, err := Load(file, true, "", nil); err == nil {
		t.Fatal("a required file that is missing must be an error")
	}
}

// Drop-ins apply in lexical order on top of the main file; flags win over all.
func TestLoadMergeOrder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "berth.toml")
	writeFile(t, file, "log_level = \"warn\"\nroot = \"/main\"\n[cni]\nconf_dir = \"/main/cni\"\n")
	writeFile(t, filepath.Join(DropInDir(file), "20-b.toml"), "log_level = \"error\"\n")
	writeFile(t, filepath.Join(DropInDir(file), "10-a.toml"), "log_level = \"debug\"\nroot = \"/dropin\"\n")
	writeFile(t, filepath.Join(DropInDir(file), "ignored.conf"), "this is not toml")
	writeFile(t, filepath.Join(DropInDir(file), "30-r.toml"), "[registries.\"registry.k8s.io\"]\nmirrors = [\"127.0.0.1:5000/registry.k8s.io\"]\n")

	cfg, err := Load(file, true, DropInDir(file), []Override{{Flag: "--listen", Key: "listen", Apply: func(c *Config) { c.Listen = "/tmp/x.sock" }}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LogLevel != "error" || cfg.Root != "/dropin" || cfg.CNI.ConfDir != "/main/cni" || cfg.Listen != "/tmp/x.sock" {
		t.Fatalf("merge order wrong: %+v", cfg)
	}
	if got := cfg.Registries["registry.k8s.io"].Mirrors; len(got) != 1 || got[0] != "127.0.0.1:5000/registry.k8s.io" {
		t.Fatalf("mirror not loaded: %v", got)
	}
	// The main file's unrelated defaults survive.
	if cfg.Runtime.Handlers["runc"].Path == "" {
		t.Fatal("default handler lost")
	}
}

// Every bad configuration names the file, the key and the reason.
func TestLoadErrorsNameFileKeyReason(t *testing.T) {
	cases := []struct {
		name, main, dropin string
		wantFile, wantKey  string
		wantReason         string
	}{
		{name: "unknown key", main: "lisen = \"/x\"\n", wantFile: "berth.toml", wantKey: "lisen", wantReason: "unknown key"},
		{name: "unknown nested key", main: "[cni]\nconfdir = \"/x\"\n", wantFile: "berth.toml", wantKey: "cni.confdir", wantReason: "unknown key"},
		{name: "bad driver", main: "cgroup_driver = \"cgroupfs2\"\n", wantFile: "berth.toml", wantKey: "cgroup_driver", wantReason: "cgroupfs2"},
		{name: "unknown metric group", main: "included_pod_metrics = [\"cpu\", \"gpu\"]\n", wantFile: "berth.toml", wantKey: "included_pod_metrics", wantReason: "\"gpu\" is no metric group"},
		{name: "tracing endpoint without port", main: "[tracing]\nenabled = true\nendpoint = \"collector\"\n", wantFile: "berth.toml", wantKey: "tracing.endpoint", wantReason: "host:port"},
		{name: "sampling rate over a million", main: "[tracing]\nsampling_rate_per_million = 2000000\n", wantFile: "berth.toml", wantKey: "tracing.sampling_rate_per_million", wantReason: "between 0 and 1000000"},
		{name: "bad log level", dropin: "log_level = \"loud\"\n", wantFile: "10-x.toml", wantKey: "log_level", wantReason: "loud"},
		{name: "userns root in runroot", main: "runroot = \"/run/b\"\nuserns_root = \"/run/b/userns\"\n", wantFile: "berth.toml", wantKey: "userns_root", wantReason: "outside runroot"},
		{name: "userns root is root", main: "userns_root = \"/var/lib/berth\"\n", wantFile: "berth.toml", wantKey: "userns_root", wantReason: "outside root"},
		{name: "relative root", main: "root = \"var/lib\"\n", wantFile: "berth.toml", wantKey: "root", wantReason: "absolute"},
		{name: "unknown default handler", main: "[runtime]\ndefault_handler = \"kata\"\n", wantFile: "berth.toml", wantKey: "runtime.default_handler", wantReason: "crun, runc"},
		{name: "relative handler path", dropin: "[runtime.handlers.runc]\npath = \"runc\"\nroot = \"/run/x\"\n", wantFile: "10-x.toml", wantKey: "runtime.handlers.runc.path", wantReason: "absolute"},
		{name: "mirror with scheme", main: "[registries.\"docker.io\"]\nmirrors = [\"http://m:5000\"]\n", wantFile: "berth.toml", wantKey: `registries."docker.io".mirrors`, wantReason: "scheme"},
		{name: "bad duration", main: "[cni]\ntimeout = \"soon\"\n", wantFile: "berth.toml", wantKey: "", wantReason: "soon"},
		{name: "syntax error", main: "root = \n", wantFile: "berth.toml:1", wantReason: ""},
		{name: "wrong type", main: "log_level = 3\n", wantFile: "berth.toml", wantReason: "log_level"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "berth.toml")
			writeFile(t, file, tc.main)
			if tc.dropin != "" {
				writeFile(t, filepath.Join(DropInDir(file), "10-x.toml"), tc.dropin)
			}
			_, err := Load(file, true, DropInDir(file), nil)
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("want *config.Error, got %v", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error must be one line: %q", msg)
			}
			if !strings.Contains(filepath.Base(cerr.Source), tc.wantFile) {
				t.Errorf("source %q does not name %q", cerr.Source, tc.wantFile)
			}
			if tc.wantKey != "" && cerr.Key != tc.wantKey {
				t.Errorf("key = %q, want %q (%s)", cerr.Key, tc.wantKey, msg)
			}
			if !strings.Contains(msg, tc.wantReason) {
				t.Errorf("message %q lacks %q", msg, tc.wantReason)
			}
		})
	}
}

func TestFlagErrorsNameTheFlag(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.toml"), false, "", []Override{{Flag: "--root", Key: "root", Apply: func(c *Config) { c.Root = "rel" }}})
	if err == nil || !strings.Contains(err.Error(), "flag --root: root:") {
		t.Fatalf("want an error naming the flag, got %v", err)
	}
}

func TestChanges(t *testing.T) {
	old, cur := Default(), Default()
	cur.LogLevel = "debug"
	cur.Root = "/elsewhere"
	cur.Registries = map[string]RegistryConfig{"r.io": {Blocked: true}}
	got := Changes(old, cur)
	want := []Change{{Key: "root"}, {Key: "log_level", Reloadable: true}, {Key: "registries", Reloadable: true}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	if len(Changes(old, Default())) != 0 {
		t.Fatal("equal configs must have no changes")
	}
}
