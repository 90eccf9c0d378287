package oci

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/proc"
)

// A runtime command at work on a container is killed; one at work on
// another container, or another program naming it, is not.
func TestKillOrphans(t *testing.T) {
	// A shell under the runtime's name stands in for it: its command line
	// is then the runtime's, with the container ID as the last argument.
	fake := filepath.Join(t.TempDir(), "runc")
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, sh, 0o755); err != nil {
		t.Fatal(err)
	}
	start := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	script := "sleep 3600; true"
	orphan := start(fake, "-c", script, "create", "ctr1")
	other := start(fake, "-c", script, "create", "ctr10")
	bystander := start("/bin/sh", "-c", script, "create", "ctr1")

	r := &Runtime{Handler: "runc", Path: fake}
	if err := r.KillOrphans("ctr1"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- orphan.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the orphaned runtime command still runs")
	}
	for _, c := range []*exec.Cmd{other, bystander} {
		if st, err := proc.ReadStat(c.Process.Pid); err != nil || st.State == 'Z' {
			t.Errorf("%v was killed", c.Args)
		}
	}
}
