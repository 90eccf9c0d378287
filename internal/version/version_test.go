package version

import (
	"regexp"
	"testing"
)

// semver.org's regular expression for a valid version.
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

func TestVersionIsSemver(t *testing.T) {
	defer func(c string) { commit = c }(commit)
	for _, tc := range []struct{ commit, want string }{
		{"1a2b3c4", Release + "+1a2b3c4"},
		{"1a2b3c4.dirty", Release + "+1a2b3c4.dirty"},
		{"not/semver", Release}, // never build metadata semver refuses
	} {
		commit = tc.commit
		got := Version()
		if got != tc.want {
			t.Errorf("commit %q: Version() = %q, want %q", tc.commit, got, tc.want)
		}
		if !semver.MatchString(got) {
			t.Errorf("commit %q: Version() = %q is not semver", tc.commit, got)
		}
	}
}
