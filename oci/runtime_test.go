package oci

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLastLogError(t *testing.T) {
	log := filepath.Join(t.TempDir(), "runtime.log")
	lines := `{"level":"info","msg":"starting"}
{"level":"error","msg":"runc create failed: unable to start container process: exec: \"nope\": executable file not found in $PATH"}
{"level":"info","msg":"cleanup"}
`
	if err := os.WriteFile(log, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := lastLogError(log); !strings.Contains(got, `exec: "nope"`) {
		t.Fatalf("lastLogError = %q; want the last error line", got)
	}
	if got := lastLogError(filepath.Join(t.TempDir(), "missing")); got != "" {
		t.Fatalf("lastLogError of a missing log = %q", got)
	}
}

// fakeRuntime writes a runtime script that prints msg on stderr and fails.
func fakeRuntime(t *testing.T, msg string) *Runtime {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runtime")
	script := "#!/bin/sh\necho '" + msg + "' >&2\nexit 1\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Runtime{Handler: "fake", Path: path, Root: t.TempDir()}
}

func TestRuntimeErrors(t *testing.T) {
	ctx := context.Background()
	failures := func() float64 { return testutil.ToFloat64(metrics.RuntimeFailures.WithLabelValues("fake", "kill")) }
	before := failures()
	gone := fakeRuntime(t, "container does not exist")
	if err := gone.Kill(ctx, "x", 15, false); !errors.Is(err, ErrNotExist) {
		t.Fatalf("kill of an unknown container: %v; want ErrNotExist", err)
	}
	if err := gone.Delete(ctx, "x"); err != nil {
		t.Fatalf("deleting an unknown container must succeed: %v", err)
	}
	old := fakeRuntime(t, "unknown version specified")
	err := old.Kill(ctx, "x", 9, false)
	if err == nil || !strings.Contains(err.Error(), "does not support OCI runtime-spec") {
		t.Fatalf("a runtime too old for the spec: %v; want a hint", err)
	}
	// A container already gone is no failure of the runtime.
	if got := failures() - before; got != 1 {
		t.Errorf("berth_runtime_failures_total{handler=fake,command=kill} rose by %v, want 1", got)
	}
}

// A stopped container is deleted without --force (runc's --force sleeps
// 100 ms before it looks); one a plain delete refuses gets --force.
func TestDeleteForcesOnlyWhenRefused(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$*\" >>" + calls + "\n" +
		"case \"$*\" in *running*--force*|*--force*running*) exit 0;; *running*) echo 'cannot delete container running that is not stopped: running' >&2; exit 1;; esac\n"
	path := filepath.Join(dir, "runtime")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &Runtime{Handler: "fake", Path: path, Root: dir}
	for _, id := range []string{"stopped", "running"} {
		if err := r.Delete(context.Background(), id); err != nil {
			t.Fatalf("Delete %s: %v", id, err)
		}
	}
	data, _ := os.ReadFile(calls)
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		got = append(got, strings.Join(f[2:], " ")) // past --root DIR
	}
	want := []string{"delete stopped", "delete running", "delete --force running"}
	if !slices.Equal(got, want) {
		t.Errorf("runtime calls %q, want %q", got, want)
	}
}
