// Package version holds what `berth version` and the CRI Version RPC report.
package version

import (
	"regexp"
	"runtime/debug"
)

// Release is berth's release version, semver without build metadata. A
// release build sets it with -ldflags "-X .../internal/version.Release=1.2.3".
var Release = "0.1.0-dev"

// commit is the VCS revision, set by the Makefile (-X ...version.commit=)
// from `git rev-parse --short HEAD` with ".dirty" for a modified tree; Go's
// own build info is the fallback for `go build` without it.
var commit = ""

// Commit returns the VCS revision the binary was built from, when known.
func Commit() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" && dirty {
			rev += ".dirty"
		}
		if rev != "" {
			return rev
		}
	}
	return "unknown"
}

// buildMetadata keeps what semver allows after "+": dot-separated
// [0-9A-Za-z-] identifiers.
var buildMetadata = regexp.MustCompile(`^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$`)

// Version is the release with the commit as semver build metadata
// ("0.1.0-dev+1a2b3c4d"). kubelet parses the CRI runtime_version as semver
// and shows "Unknown" in the node's status when it is not.
func Version() string {
	if c := Commit(); buildMetadata.MatchString(c) && c != "unknown" {
		return Release + "+" + c
	}
	return Release
}
