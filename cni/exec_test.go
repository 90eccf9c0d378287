package cni

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/berth-dev/berth/internal/metrics"
)

// A plugin that fails gives its own error and is counted by plugin and
// CNI command; one that succeeds is not counted.
func TestPluginFailuresAreCounted(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "failing-bridge")
	ok := filepath.Join(dir, "ok-bridge")
	for path, script := range map[string]string{
		failing: "#!/bin/sh\necho '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no IP addresses left\"}'\nexit 1\n",
		ok:      "#!/bin/sh\necho '{}'\n",
	} {
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	count := func(plugin string) float64 {
		return testutil.ToFloat64(metrics.CNIFailures.WithLabelValues(plugin, "ADD"))
	}
	env := []string{"CNI_COMMAND=ADD", "CNI_CONTAINERID=x"}
	var e pluginExec
	if _, err := e.ExecPlugin(context.Background(), ok, nil, env); err != nil {
		t.Fatal(err)
	}
	_, err := e.ExecPlugin(context.Background(), failing, nil, env)
	if err == nil || !strings.Contains(err.Error(), "no IP addresses left") {
		t.Fatalf("ExecPlugin of a failing plugin = %v", err)
	}
	if count("failing-bridge") != 1 || count("ok-bridge") != 0 {
		t.Errorf("failures counted: failing-bridge %v, ok-bridge %v; want 1 and 0", count("failing-bridge"), count("ok-bridge"))
	}
}
