package oci

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
	if err := gone.Delete(ctx, "x", true); err != nil {
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
