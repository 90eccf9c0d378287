package container

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/names"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/oci"
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

// testManager is a manager of opts, with a store in dir and a test host
// unless opts has them.
func testManager(t *testing.T, dir string, opts Options) *Manager {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opts.DB = db
	if opts.Host == nil {
		opts.Host = testHost(t)
	}
	if opts.Runtimes == nil {
		opts.Runtimes = oci.NewRuntimes(map[string]config.RuntimeHandler{"runc": {Path: "/bin/true"}}, "runc")
	}
	m := &Manager{opts: opts, names: names.New(), containers: map[string]*Container{}}
	t.Cleanup(m.releases.Wait) // before the test's dirs go
	return m
}

// loggingRuntimes are the runtimes of a handler "runc" that appends each
// call's arguments to dir/calls; its command gated (start, delete), if
// not "", touches dir/entered and waits for dir/go.
func loggingRuntimes(t *testing.T, dir, gated string) *oci.Runtimes {
	t.Helper()
	gate := ""
	if gated != "" {
		gate = fmt.Sprintf("case \"$*\" in *\" %s \"*) touch %s/entered; while [ ! -e %s/go ]; do sleep 0.01; done;; esac\n", gated, dir, dir)
	}
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %s/calls\n%s", dir, gate)
	runtime := filepath.Join(dir, "runtime")
	if err := os.WriteFile(runtime, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return oci.NewRuntimes(map[string]config.RuntimeHandler{"runc": {Path: runtime}}, "runc")
}

// runningRecord is the record of a container whose process runs: this
// test's own stands in for it.
func runningRecord(t *testing.T, id string, state State, dir string) Record {
	t.Helper()
	self, err := proc.ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return Record{ID: id, SandboxID: "pod1", Handler: "runc", State: state, Complete: true, Pid: os.Getpid(), PidStart: self.StartTime, Dir: dir}
}
