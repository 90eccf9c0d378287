package spec

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// DefaultAppArmorProfile is berth's own AppArmor profile, which berth
// loads at start-up on a host that enforces AppArmor and gives to
// RuntimeDefault containers unless the operator names another.
const DefaultAppArmorProfile = "berth-default"

// defaultAppArmorPolicy is the profile's source (apparmor/berth-default).
//
//go:embed apparmor/berth-default
var defaultAppArmorPolicy []byte

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
	// Default is the profile RuntimeDefault containers get:
	// DefaultAppArmorProfile (loaded by LoadDefault), or one the operator
	// loads. Empty is DefaultAppArmorProfile.
	Default string
}

// probeAppArmor reads whether the kernel enforces AppArmor.
func probeAppArmor(enabledFile, profilesFile string) AppArmor {
	data, err := os.ReadFile(enabledFile)
	return AppArmor{Enabled: err == nil && strings.TrimSpace(string(data)) == "Y", ProfilesFile: profilesFile}
}

func (a *AppArmor) defaultProfile() string {
	if a.Default == "" {
		return DefaultAppArmorProfile
	}
	return a.Default
}

// AppArmorParser is the path of apparmor_parser, or "" when the host has
// none.
func AppArmorParser() string {
	for _, p := range []string{"/sbin/apparmor_parser", "/usr/sbin/apparmor_parser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("apparmor_parser")
	return p
}

// LoadDefault makes sure the default profile is loaded, on a host that
// enforces AppArmor (elsewhere it does nothing). berth-default is loaded
// (or replaced by this berth's version) with parser; a profile the
// operator named must be loaded already. An error means containers could
// not get the confinement they ask for: berth must not start.
func (a *AppArmor) LoadDefault(parser string) error {
	if !a.Enabled {
		return nil
	}
	name := a.defaultProfile()
	if name != DefaultAppArmorProfile {
		if !a.loaded(name) {
			return fmt.Errorf("apparmor_profile %q is not loaded: load it with apparmor_parser, or use %s", name, DefaultAppArmorProfile)
		}
		return nil
	}
	if parser == "" {
		return fmt.Errorf("AppArmor is enabled but apparmor_parser is not installed (Debian package apparmor): cannot load profile %s", name)
	}
	// -r replaces the version a previous berth loaded; -W writes no
	// cache: the source is berth's own and compiles in milliseconds.
	cmd := exec.Command(parser, "-r", "-W") // the profile on stdin
	cmd.Stdin = bytes.NewReader(defaultAppArmorPolicy)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("load AppArmor profile %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	if !a.loaded(name) {
		return fmt.Errorf("load AppArmor profile %s: apparmor_parser succeeded but the kernel does not list it in %s", name, a.ProfilesFile)
	}
	return nil
}

// profile is the AppArmor profile for a container's process ("" for none).
//   - Privileged containers and Unconfined get none.
//   - RuntimeDefault gets the default profile; on a host without AppArmor,
//     none. Never silently none on a host with AppArmor: a default profile
//     gone since start-up (unloaded by hand) fails the container.
//   - Localhost needs the named profile loaded; without AppArmor or without the
//     profile it is an error, since the pod asked for a confinement berth
//     cannot give.
func (a *AppArmor) profile(p Profile, privileged bool) (string, error) {
	if privileged || p.Type == Unconfined {
		return "", nil
	}
	if p.Type == RuntimeDefault {
		if !a.Enabled {
			return "", nil
		}
		if name := a.defaultProfile(); a.loaded(name) {
			return name, nil
		}
		return "", fmt.Errorf("%w: the default AppArmor profile %s is not loaded (restart berth to load it)", ErrFailedPrecondition, a.defaultProfile())
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
