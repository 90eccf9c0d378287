package spec

import (
	"errors"
	"os"
	"path/filepath"
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
		{"localhost loaded", true, localhost("my-profile"), false, "my-profile", false},
		{"localhost not loaded", true, localhost("other"), false, "", true},
		{"localhost, no AppArmor", false, localhost("my-profile"), false, "", true},
		{"localhost without a name", true, localhost(""), false, "", true},
		{"privileged ignores it", true, localhost("other"), true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := fakeAppArmor(t, tt.enabled, loaded)
			got, err := a.profile(tt.p, tt.privileged)
			if tt.invalid != errors.Is(err, ErrInvalid) || got != tt.want {
				t.Fatalf("profile = %q, %v; want %q (invalid: %v)", got, err, tt.want, tt.invalid)
			}
		})
	}
}
