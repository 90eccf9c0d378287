package oci

import (
	"bufio"
	"os"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Where the kernel tells about AppArmor (variables for tests).
var (
	apparmorEnabledFile  = "/sys/module/apparmor/parameters/enabled"
	apparmorProfilesFile = "/sys/kernel/security/apparmor/profiles"
)

// DefaultAppArmorProfile is the profile RuntimeDefault asks for when the
// host has it loaded.
const DefaultAppArmorProfile = "berth-default"

// AppArmorEnabled says whether the kernel enforces AppArmor.
func AppArmorEnabled() bool {
	data, err := os.ReadFile(apparmorEnabledFile)
	return err == nil && strings.TrimSpace(string(data)) == "Y"
}

var warnNoDefault sync.Once

// apparmorProfile is the AppArmor profile for a container's process ("" for
// none): the CRI profile, else the deprecated profile name.
//   - Privileged containers and Unconfined get none.
//   - RuntimeDefault gets berth-default when that profile is loaded, else none
//     (with one warning); on a host without AppArmor, none.
//   - Localhost needs the named profile loaded; without AppArmor or without the
//     profile it is an error, since the pod asked for a confinement berth
//     cannot give.
func apparmorProfile(sc *runtimeapi.LinuxContainerSecurityContext, privileged bool) (string, error) {
	typ, name := runtimeapi.SecurityProfile_Unconfined, ""
	if p := sc.GetApparmor(); p != nil {
		typ, name = p.GetProfileType(), p.GetLocalhostRef()
	} else {
		switch old := sc.GetApparmorProfile(); {
		case old == "runtime/default":
			typ = runtimeapi.SecurityProfile_RuntimeDefault
		case strings.HasPrefix(old, "localhost/"):
			typ, name = runtimeapi.SecurityProfile_Localhost, strings.TrimPrefix(old, "localhost/")
		case old == "" || old == "unconfined":
		default:
			return "", invalidf("apparmor profile %q: want runtime/default, localhost/<name> or unconfined", old)
		}
	}
	if privileged || typ == runtimeapi.SecurityProfile_Unconfined {
		return "", nil
	}
	enabled := AppArmorEnabled()
	if typ == runtimeapi.SecurityProfile_RuntimeDefault {
		if enabled && apparmorLoaded(DefaultAppArmorProfile) {
			return DefaultAppArmorProfile, nil
		}
		if enabled {
			warnNoDefault.Do(func() {
				logrus.Warnf("AppArmor profile %s is not loaded; RuntimeDefault containers run unconfined", DefaultAppArmorProfile)
			})
		}
		return "", nil
	}
	if name == "" {
		return "", invalidf("apparmor: a Localhost profile needs a profile name")
	}
	if !enabled {
		return "", invalidf("apparmor profile %q asked for, but AppArmor is not enabled on this host", name)
	}
	if !apparmorLoaded(name) {
		return "", invalidf("apparmor profile %q is not loaded (load it with apparmor_parser)", name)
	}
	return name, nil
}

// apparmorLoaded reports whether the kernel has a profile of that name
// (lines of the profiles file read "name (mode)").
func apparmorLoaded(name string) bool {
	f, err := os.Open(apparmorProfilesFile)
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
