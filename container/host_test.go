package container

import (
	"testing"

	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/spec"
)

// testHost is a host whose cgroup hierarchies are empty dirs of the test's
// own: removing a cgroup there finds nothing.
func testHost(t *testing.T) *spec.Host {
	cg, err := cgroups.NewHost(cgroups.Legacy, t.TempDir(), "cpu", "memory")
	if err != nil {
		t.Fatal(err)
	}
	return &spec.Host{Cgroups: cg}
}
