// Package version holds what `berth version` and the CRI Version RPC report.
package version

import "runtime/debug"

// Version is set at build time with -ldflags "-X .../internal/version.Version=...".
var Version = "0.1.0-dev"

// Commit returns the VCS revision the binary was built from, when known.
func Commit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
