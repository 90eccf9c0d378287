// Package oci drives OCI runtimes (runc, crun) through their command line and
// builds the OCI specs berth hands them.
package oci

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/config"
)

// ErrNotExist is returned when the runtime does not know the container.
var ErrNotExist = errors.New("container does not exist in the runtime")

// Runtime is one configured runtime handler.
type Runtime struct {
	Handler string // the name kubelet uses (RuntimeClass handler)
	Path    string
	Root    string
	Args    []string
}

// NewRuntime returns the runtime of a configured handler.
func NewRuntime(handler string, h config.RuntimeHandler) *Runtime {
	return &Runtime{Handler: handler, Path: h.Path, Root: h.Root, Args: h.Args}
}

// Runtimes are the configured runtime handlers.
type Runtimes struct {
	Handlers map[string]config.RuntimeHandler
	Default  string // used when a pod names none
}

// Get returns the runtime of a handler name ("" = the default); an unknown
// name is ErrInvalid, listing the configured ones.
func (rs Runtimes) Get(handler string) (*Runtime, error) {
	if handler == "" {
		handler = rs.Default
	}
	h, ok := rs.Handlers[handler]
	if !ok {
		known := make([]string, 0, len(rs.Handlers))
		for name := range rs.Handlers {
			known = append(known, name)
		}
		sort.Strings(known)
		return nil, invalidf("unknown runtime handler %q; configured: %s", handler, strings.Join(known, ", "))
	}
	return NewRuntime(handler, h), nil
}

// RuntimeState is what `<runtime> state` reports.
type RuntimeState struct {
	Status string `json:"status"` // creating, created, running, paused, stopped
	Pid    int    `json:"pid"`
}

// Create runs `<runtime> create` for the bundle; the container's init process
// is left waiting for Start. Its stdio is /dev/null. The runtime's own log
// goes to <bundle>/runtime.log, from which a failure's message is taken.
func (r *Runtime) Create(ctx context.Context, id, bundle string) error {
	_, err := r.run(ctx, filepath.Join(bundle, "runtime.log"),
		"create", "--bundle", bundle, "--pid-file", filepath.Join(bundle, "pid"), id)
	return err
}

// Start starts a created container.
func (r *Runtime) Start(ctx context.Context, id string) error {
	_, err := r.run(ctx, "", "start", id)
	return err
}

// Kill sends sig to the container's init process (all processes with all).
func (r *Runtime) Kill(ctx context.Context, id string, sig syscall.Signal, all bool) error {
	args := []string{"kill"}
	if all {
		args = append(args, "--all")
	}
	_, err := r.run(ctx, "", append(args, id, strconv.Itoa(int(sig)))...)
	return err
}

// Delete removes the container from the runtime (its cgroup and state);
// force kills it first if it still runs. A container the runtime does not
// know is not an error.
func (r *Runtime) Delete(ctx context.Context, id string, force bool) error {
	args := []string{"delete"}
	if force {
		args = append(args, "--force")
	}
	_, err := r.run(ctx, "", append(args, id)...)
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	return err
}

// Update changes a container's resources; resources is the JSON of an OCI
// LinuxResources.
func (r *Runtime) Update(ctx context.Context, id string, resources []byte) error {
	_, err := r.runStdin(ctx, resources, "update", "--resources", "-", id)
	return err
}

// State asks the runtime for the container's state.
func (r *Runtime) State(ctx context.Context, id string) (RuntimeState, error) {
	out, err := r.run(ctx, "", "state", id)
	if err != nil {
		return RuntimeState{}, err
	}
	var st RuntimeState
	if err := json.Unmarshal(out, &st); err != nil {
		return RuntimeState{}, fmt.Errorf("%s state %s: parse: %w", r.Handler, id, err)
	}
	return st, nil
}

// globalArgs are the flags every call of this handler gets.
func (r *Runtime) globalArgs() []string {
	return append([]string{"--root", r.Root}, r.Args...)
}

// run calls the runtime with the global flags. With logFile, the runtime logs
// there in JSON and stdio is /dev/null, so a container process inheriting it
// never holds a pipe of ours open.
func (r *Runtime) run(ctx context.Context, logFile string, args ...string) ([]byte, error) {
	return r.call(ctx, logFile, nil, args...)
}

func (r *Runtime) runStdin(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	return r.call(ctx, "", stdin, args...)
}

func (r *Runtime) call(ctx context.Context, logFile string, stdin []byte, args ...string) ([]byte, error) {
	global := r.globalArgs()
	if logFile != "" {
		global = append(global, "--log", logFile, "--log-format", "json")
	}
	cmd := exec.CommandContext(ctx, r.Path, append(global, args...)...)
	cmd.WaitDelay = time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	if logFile == "" {
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
	}
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	msg := strings.TrimSpace(stderr.String())
	if logFile != "" {
		msg = lastLogError(logFile)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s %s: %w (%s)", r.Handler, args[0], ctx.Err(), msg)
	}
	if msg == "" {
		msg = err.Error()
	}
	if strings.Contains(msg, "unknown version") {
		msg += fmt.Sprintf(" (%s does not support OCI runtime-spec %s: upgrade it or use another runtime handler)", r.Path, rspec.Version)
	}
	if args[0] != "create" && strings.Contains(msg, "does not exist") {
		return nil, fmt.Errorf("%s %s: %w: %s", r.Handler, args[0], ErrNotExist, msg)
	}
	return nil, fmt.Errorf("%s %s: %s", r.Handler, args[0], msg)
}

// lastLogError returns the last error message of a runtime's JSON log
// (runc and crun both write {"level":"error","msg":"..."} lines).
func lastLogError(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var last, lastAny string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e struct{ Level, Msg string }
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			lastAny = sc.Text()
			continue
		}
		lastAny = e.Msg
		if e.Level == "error" || e.Level == "fatal" {
			last = e.Msg
		}
	}
	if last == "" {
		return strings.TrimSpace(lastAny)
	}
	return last
}
