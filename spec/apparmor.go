package spec

import (
	"bufio"
	"os"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
)

// DefaultAppArmorProfile is the profile RuntimeDefault asks for when the
// host has it loaded.
const DefaultAppArmorProfile = "berth-default"

// Where the kernel tells about AppArmor.
const (
	appArmorEnabledFile  = "/sys/module/apparmor/parameters/enabled"
	appArmorProfilesFile = "/sys/kernel/security/apparmor/profiles"
)

// AppArmor is the host's AppArmor: whether the kernel enforces it (probed
// once) and where it lists the profiles loaded (read when a container
// asks for one: profiles are loaded while berth runs).
type AppArmor struct {
	Enabled      bool
	ProfilesFile string

	warnNoDefault sync.Once
}

// probeAppArmor reads whether the kernel enforces AppArmor.
func probeAppArmor(enabledFile, profilesFile string) AppArmor {
	data, err := os.ReadFile(enabledFile)
	return AppArmor{Enabled: err == nil && strings.TrimSpace(string(data)) == "Y", ProfilesFile: profilesFile}
}

// profile is the AppArmor profile for a container's process ("" for none).
//   - Privileged containers and Unconfined get none.
//   - RuntimeDefault gets berth-default when that profile is loaded, else none
//     (with one warning); on a host without AppArmor, none.
//   - Localhost needs the named profile loaded; without AppArmor or without the
//     profile it is an error, since the pod asked for a confinement berth
//     cannot give.
func (a *AppArmor) profile(p Profile, privileged bool) (string, error) {
	if privileged || p.Type == Unconfined {
		return "", nil
	}
	if p.Type == RuntimeDefault {
		if a.Enabled && a.loaded(DefaultAppArmorProfile) {
			return DefaultAppArmorProfile, nil
		}
		if a.Enabled {
			a.warnNoDefault.Do(func() {
				logrus.Warnf("AppArmor profile %s is not loaded; RuntimeDefault containers run unconfined", DefaultAppArmorProfile)
			})
		}
		return "", nil
	}
	name := p.LocalhostRef
	if name == "" {
		return "", invalidf("apparmor: a Localhost profile needs a profile name")
	}
	if !a.Enabled {
		return "", invalidf("apparmor profile %q asked for, but AppArmor is not enabled on this host", name)
	}
	if !a.loaded(name) {
		return "", invalidf("apparmor profile %q is not loaded (load it with apparmor_parser)", name)
	}
	return name, nil
}

// loaded reports whether the kernel has a profile of that name (lines of
// the profiles file read "name (mode)").
func (a *AppArmor) loaded(name string) bool {
	f, err := os.Open(a.ProfilesFile)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if loaded, _, _ := strings.Cut(sc.Text(), " ("); loaded == name {
			return true
		}
	}
	return false
}
