package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// crictlRun makes pods one at a time the way an operator does by hand:
// one crictl process per step, each paying crictl's own start-up and
// connection, as the first comparison of berth and containerd
// did. The same pod and container configs as the gRPC phases.
type crictlRun struct {
	c        *cri
	binary   string
	endpoint string
	dir      string // the JSON configs crictl reads
}

// crictl runs one crictl command and returns its trimmed stdout.
func (r *crictlRun) crictl(ctx context.Context, args ...string) (string, error) {
	global := []string{"--runtime-endpoint", r.endpoint, "--image-endpoint", r.endpoint, "--timeout", "2m"}
	cmd := exec.CommandContext(ctx, r.binary, append(global, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("crictl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// writeJSON writes v where crictl reads it; crictl decodes the CRI types
// with their JSON tags, as encoding/json writes them.
func (r *crictlRun) writeJSON(name string, v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	p := filepath.Join(r.dir, name)
	return p, os.WriteFile(p, data, 0o644)
}

// sample makes one pod and its container with runp, create and start,
// then removes them with stop, rm, stopp and rmp, each step timed.
func (r *crictlRun) sample(ctx context.Context, s *samples) error {
	cfg, err := r.c.podConfig()
	if err != nil {
		return err
	}
	podFile, err := r.writeJSON("pod.json", cfg)
	if err != nil {
		return err
	}
	ctrFile, err := r.writeJSON("container.json", r.c.containerConfig())
	if err != nil {
		return err
	}
	step := func(name string, out *string, args ...string) error {
		start := time.Now()
		v, err := r.crictl(ctx, args...)
		if err != nil {
			return err
		}
		s.add("crictl "+name, time.Since(start))
		if out != nil {
			*out = v
		}
		return nil
	}
	runp := []string{"runp"}
	if r.c.handler != "" {
		runp = append(runp, "--runtime", r.c.handler)
	}
	// What each of the three steps pays before the runtime does anything:
	// crictl's start-up, its connection and one call (crictl version).
	// Both runtimes pay it alike; it is outside the runtime.
	if err := step("version", nil, "version"); err != nil {
		return err
	}
	var podID, ctrID string
	start := time.Now()
	if err := step("runp", &podID, append(runp, podFile)...); err != nil {
		return err
	}
	if err := step("create", &ctrID, "create", podID, ctrFile, podFile); err != nil {
		r.removePod(podID)
		return err
	}
	if err := step("start", nil, "start", ctrID); err != nil {
		r.removePod(podID)
		return err
	}
	s.add("crictl: pod + container ready", time.Since(start))
	start = time.Now()
	for _, st := range []struct {
		name string
		args []string
	}{
		{"stop", []string{"stop", "--timeout", "0", ctrID}},
		{"rm", []string{"rm", ctrID}},
		{"stopp", []string{"stopp", podID}},
		{"rmp", []string{"rmp", podID}},
	} {
		if err := step(st.name, nil, st.args...); err != nil {
			r.removePod(podID)
			return err
		}
	}
	s.add("crictl: pod + container gone", time.Since(start))
	return nil
}

// removePod is the clean-up after a failed step.
func (r *crictlRun) removePod(id string) {
	ctx := context.Background()
	r.crictl(ctx, "stopp", id)
	r.crictl(ctx, "rmp", "--force", id)
}
