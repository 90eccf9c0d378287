package oci

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// ErrNoCRIU is returned when the host cannot checkpoint containers: CRIU
// is missing, or `criu check` finds the kernel lacking.
var ErrNoCRIU = errors.New("checkpointing is not possible on this host")

// CheckCRIU says whether the runtimes can checkpoint here: runc and crun
// both run the criu binary found in PATH, and `criu check` is CRIU's own
// test of the kernel's features.
func CheckCRIU(ctx context.Context) error {
	path, err := exec.LookPath("criu")
	if err != nil {
		return fmt.Errorf("%w: CRIU is not installed (Debian package criu)", ErrNoCRIU)
	}
	out, err := exec.CommandContext(ctx, path, "check").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: `%s check` fails: %s", ErrNoCRIU, path, checkOutput(out, err))
	}
	return nil
}

// checkOutput is what `criu check` said, on one line and bounded (its
// first error names the missing kernel feature, its last what it gave up
// on), or the command's error when it said nothing.
func checkOutput(out []byte, err error) string {
	const most = 512
	s := strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", " | ")), " ")
	if s == "" {
		return err.Error()
	}
	if len(s) > most {
		s = s[:most] + "..."
	}
	return s
}

// Checkpoint has CRIU dump the running container's processes into
// imagePath, leaving them running (kubelet's forensic checkpoint). CRIU's
// log, dump.log, is written to workPath. TCP connections and file locks
// are dumped too rather than failing the checkpoint.
func (r *Runtime) Checkpoint(ctx context.Context, id, imagePath, workPath string) error {
	_, err := r.run(ctx, "", "checkpoint", "--image-path", imagePath, "--work-path", workPath,
		"--leave-running", "--tcp-established", "--file-locks", id)
	return err
}
