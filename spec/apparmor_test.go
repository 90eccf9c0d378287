package spec

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAppArmor is a host's AppArmor, enabled or not, with these profiles
// loaded (listed in a temp file as the kernel lists them).
func fakeAppArmor(t *testing.T, enabled bool, profiles string) *AppArmor {
	t.Helper()
	prof := filepath.Join(t.TempDir(), "profiles")
	if err := os.WriteFile(prof, []byte(profiles), 0o644); err != nil {
		t.Fatal(err)
	}
	return &AppArmor{Enabled: enabled, ProfilesFile: prof}
}

func TestProbeAppArmor(t *testing.T) {
	dir := t.TempDir()
	for name, tt := range map[string]struct {
		content string // "" for no file
		want    bool
	}{
		"enabled":     {"Y\n", true},
		"not enabled": {"N\n", false},
		"no file":     {"", false},
	} {
		t.Run(name, func(t *testing.T) {
			en := filepath.Join(dir, name)
			if tt.content != "" {
				if err := os.WriteFile(en, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			a := probeAppArmor(en, "/profiles")
			if a.Enabled != tt.want || a.ProfilesFile != "/profiles" {
				t.Fatalf("probeAppArmor = enabled %v, profiles %q; want %v, /profiles", a.Enabled, a.ProfilesFile, tt.want)
			}
		})
	}
}

func TestAppArmorProfile(t *testing.T) {
	localhost := func(name string) Profile { return Profile{Type: Localhost, LocalhostRef: name} }
	runtimeDefault := Profile{Type: RuntimeDefault}
	loaded := "berth-default (enforce)\nmy-profile (complain)\n"
	tests := []struct {
		name       string
		enabled    bool
		p          Profile
		privileged bool
		want       string
		invalid    bool
	}{
		{"unset", true, Profile{}, false, "", false},
		{"unconfined", true, Profile{Type: Unconfined}, false, "", false},
		{"runtime default loaded", true, runtimeDefault, false, DefaultAppArmorProfile, false},
		{"runtime default, no AppArmor", false, runtimeDefault, false, "", false},
		{"runtime default unloaded since start-up", true, runtimeDefault, false, "", true},
		{"localhost loaded", true, localhost("my-profile"), false, "my-profile", false},
		{"localhost not loaded", true, localhost("other"), false, "", true},
		{"localhost, no AppArmor", false, localhost("my-profile"), false, "", true},
		{"localhost without a name", true, localhost(""), false, "", true},
		{"privileged ignores it", true, localhost("other"), true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			profiles := loaded
			if strings.Contains(tt.name, "unloaded") {
				profiles = "my-profile (complain)\n"
			}
			a := fakeAppArmor(t, tt.enabled, profiles)
			got, err := a.profile(tt.p, tt.privileged)
			if tt.invalid != (errors.Is(err, ErrInvalid) || errors.Is(err, ErrFailedPrecondition)) || got != tt.want {
				t.Fatalf("profile = %q, %v; want %q (invalid: %v)", got, err, tt.want, tt.invalid)
			}
		})
	}
}

// fakeParser is an apparmor_parser that records its arguments and input
// in dir and, unless it is to fail, lists the profile as loaded in the
// profiles file, as the kernel would.
func fakeParser(t *testing.T, profiles string, fail bool) (path, dir string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "apparmor_parser")
	script := "#!/bin/sh\necho \"$@\" >" + dir + "/args\ncat >" + dir + "/input\n"
	if fail {
		script += "echo 'AppArmor parser error: no' >&2\nexit 1\n"
	} else {
		script += "echo 'berth-default (enforce)' >>" + profiles + "\n"
	}
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, dir
}

// On a host with AppArmor, berth loads its own profile at start-up, and
// RuntimeDefault containers get it; when it cannot be loaded berth must
// not start, rather than run containers unconfined.
func TestLoadDefaultAppArmorProfile(t *testing.T) {
	t.Run("loaded with apparmor_parser", func(t *testing.T) {
		a := fakeAppArmor(t, true, "")
		parser, dir := fakeParser(t, a.ProfilesFile, false)
		if err := a.LoadDefault(parser); err != nil {
			t.Fatal(err)
		}
		args, _ := os.ReadFile(filepath.Join(dir, "args"))
		input, _ := os.ReadFile(filepath.Join(dir, "input"))
		if !strings.Contains(string(args), "-r") {
			t.Errorf("parser args %q: want -r (replace a loaded version)", args)
		}
		if !strings.Contains(string(input), "profile berth-default ") {
			t.Errorf("parser was not given the berth-default profile: %q", input)
		}
		if got, err := a.profile(Profile{Type: RuntimeDefault}, false); err != nil || got != DefaultAppArmorProfile {
			t.Errorf("RuntimeDefault got %q, %v; want %s", got, err, DefaultAppArmorProfile)
		}
	})
	t.Run("parser fails", func(t *testing.T) {
		a := fakeAppArmor(t, true, "")
		parser, _ := fakeParser(t, a.ProfilesFile, true)
		if err := a.LoadDefault(parser); err == nil || !strings.Contains(err.Error(), "parser error") {
			t.Errorf("LoadDefault = %v, want the parser's error", err)
		}
		if got, err := a.profile(Profile{Type: RuntimeDefault}, false); err == nil || got != "" {
			t.Errorf("RuntimeDefault got %q, %v; want an error, never unconfined", got, err)
		}
	})
	t.Run("no parser", func(t *testing.T) {
		a := fakeAppArmor(t, true, "")
		if err := a.LoadDefault(""); err == nil || !strings.Contains(err.Error(), "apparmor_parser is not installed") {
			t.Errorf("LoadDefault = %v, want apparmor_parser missing", err)
		}
	})
	t.Run("no AppArmor", func(t *testing.T) {
		a := fakeAppArmor(t, false, "")
		parser, dir := fakeParser(t, a.ProfilesFile, true)
		if err := a.LoadDefault(parser); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "args")); err == nil {
			t.Error("the parser ran on a host without AppArmor")
		}
	})
	t.Run("operator's profile", func(t *testing.T) {
		a := fakeAppArmor(t, true, "site-default (enforce)\n")
		a.Default = "site-default"
		if err := a.LoadDefault(""); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.profile(Profile{Type: RuntimeDefault}, false); got != "site-default" {
			t.Errorf("RuntimeDefault got %q, want site-default", got)
		}
		a.Default = "missing"
		if err := a.LoadDefault(""); err == nil {
			t.Error("an operator's profile that is not loaded was accepted")
		}
	})
}

// The shipped profile compiles: apparmor_parser parses it without loading
// it (-Q), which works on a kernel without AppArmor too.
func TestDefaultAppArmorPolicyCompiles(t *testing.T) {
	parser := AppArmorParser()
	if parser == "" {
		t.Skip("apparmor_parser is not installed (hack/install-deps.sh installs it)")
	}
	cmd := exec.Command(parser, "-Q", "-W")
	cmd.Stdin = bytes.NewReader(defaultAppArmorPolicy)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apparmor_parser refuses berth-default: %v\n%s", err, out)
	}
}
