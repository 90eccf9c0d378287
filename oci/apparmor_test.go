package oci

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeAppArmor points the kernel files at a temp dir: enabled or not, with
// these profiles loaded.
func fakeAppArmor(t *testing.T, enabled bool, profiles string) {
	dir := t.TempDir()
	en := filepath.Join(dir, "enabled")
	val := "N\n"
	if enabled {
		val = "Y\n"
	}
	if err := os.WriteFile(en, []byte(val), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(dir, "profiles")
	if err := os.WriteFile(prof, []byte(profiles), 0o644); err != nil {
		t.Fatal(err)
	}
	oldEn, oldProf := apparmorEnabledFile, apparmorProfilesFile
	apparmorEnabledFile, apparmorProfilesFile = en, prof
	t.Cleanup(func() { apparmorEnabledFile, apparmorProfilesFile = oldEn, oldProf })
}

func TestAppArmorProfile(t *testing.T) {
	localhost := func(name string) *runtimeapi.LinuxContainerSecurityContext {
		return &runtimeapi.LinuxContainerSecurityContext{Apparmor: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: name}}
	}
	runtimeDefault := &runtimeapi.LinuxContainerSecurityContext{Apparmor: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}}
	loaded := "berth-default (enforce)\nmy-profile (complain)\n"
	tests := []struct {
		name       string
		enabled    bool
		sc         *runtimeapi.LinuxContainerSecurityContext
		privileged bool
		want       string
		invalid    bool
	}{
		{"unset", true, nil, false, "", false},
		{"unconfined", true, &runtimeapi.LinuxContainerSecurityContext{Apparmor: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}}, false, "", false},
		{"runtime default loaded", true, runtimeDefault, false, DefaultAppArmorProfile, false},
		{"runtime default, no AppArmor", false, runtimeDefault, false, "", false},
		{"localhost loaded", true, localhost("my-profile"), false, "my-profile", false},
		{"localhost not loaded", true, localhost("other"), false, "", true},
		{"localhost, no AppArmor", false, localhost("my-profile"), false, "", true},
		{"localhost without a name", true, localhost(""), false, "", true},
		{"privileged ignores it", true, localhost("other"), true, "", false},
		{"deprecated runtime/default", true, &runtimeapi.LinuxContainerSecurityContext{ApparmorProfile: "runtime/default"}, false, DefaultAppArmorProfile, false},
		{"deprecated localhost", true, &runtimeapi.LinuxContainerSecurityContext{ApparmorProfile: "localhost/my-profile"}, false, "my-profile", false},
		{"deprecated garbage", true, &runtimeapi.LinuxContainerSecurityContext{ApparmorProfile: "nope"}, false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeAppArmor(t, tt.enabled, loaded)
			got, err := apparmorProfile(tt.sc, tt.privileged)
			if tt.invalid != errors.Is(err, ErrInvalid) || got != tt.want {
				t.Fatalf("apparmorProfile = %q, %v; want %q (invalid: %v)", got, err, tt.want, tt.invalid)
			}
		})
	}
}
