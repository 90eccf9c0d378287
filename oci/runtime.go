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
	"sync"
	"syscall"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/metrics"
)

// Runtime is one configured runtime handler.
type Runtime struct {
	Handler string // the name kubelet uses (RuntimeClass handler)
	Path    string
	Root    string
	Args    []string

	features     Features
	featuresOnce sync.Once
}

// Runtimes are the configured runtime handlers, made once at start-up.
type Runtimes struct {
	handlers map[string]*Runtime
	def      string // used when a pod names none
}

// NewRuntimes makes the runtimes of the configured handlers; def names the
// one a pod without a handler gets.
func NewRuntimes(handlers map[string]config.RuntimeHandler, def string) *Runtimes {
	rs := &Runtimes{handlers: make(map[string]*Runtime, len(handlers)), def: def}
	for name, h := range handlers {
		rs.handlers[name] = &Runtime{Handler: name, Path: h.Path, Root: h.Root, Args: h.Args}
	}
	return rs
}

// Get returns the runtime of a handler name ("" = the default); an unknown
// name is ErrInvalid, listing the configured ones.
func (rs *Runtimes) Get(handler string) (*Runtime, error) {
	if handler == "" {
		handler = rs.def
	}
	if rt, ok := rs.handlers[handler]; ok {
		return rt, nil
	}
	return nil, invalidf("unknown runtime handler %q; configured: %s", handler, strings.Join(rs.Names(), ", "))
}

// Names lists the configured handlers, sorted.
func (rs *Runtimes) Names() []string {
	names := make([]string, 0, len(rs.handlers))
	for name := range rs.handlers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
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

// Delete removes the container from the runtime (its cgroup and state),
// killing it first if it still runs. A container the runtime does not know
// is not an error.
//
// A plain delete is tried first: `runc delete --force` sends SIGKILL and
// sleeps 100 ms before it looks, even at a container long stopped, and
// every container berth deletes has stopped but for a rollback. --force is
// for the one a plain delete refuses.
func (r *Runtime) Delete(ctx context.Context, id string) error {
	_, err := r.try(ctx, "", nil, "delete", id)
	if err != nil && !errors.Is(err, ErrNotExist) {
		_, err = r.run(ctx, "", "delete", "--force", id)
	}
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

// ExecOptions are the flags of `<runtime> exec`.
type ExecOptions struct {
	PidFile string
	// Detach with TTY makes the runtime send the terminal's master end
	// over ConsoleSocket and exit, leaving the command running.
	Detach, TTY   bool
	ConsoleSocket string
}

// ExecCommand is `<runtime> exec` of cmd in the container, not started:
// the caller wires its stdio and waits for it.
func (r *Runtime) ExecCommand(id string, o ExecOptions, cmd []string) *exec.Cmd {
	args := append(r.GlobalArgs(), "exec")
	if o.Detach {
		args = append(args, "--detach")
	}
	if o.TTY {
		args = append(args, "--tty")
	}
	if o.ConsoleSocket != "" {
		args = append(args, "--console-socket", o.ConsoleSocket)
	}
	if o.PidFile != "" {
		args = append(args, "--pid-file", o.PidFile)
	}
	return exec.Command(r.Path, append(append(args, id), cmd...)...)
}

// GlobalArgs are the flags every call of this handler gets (conmon passes
// them on to the runtime it runs).
func (r *Runtime) GlobalArgs() []string {
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

// call runs the runtime and counts a failure (berth_runtime_failures_total);
// a container the runtime does not know is no failure of the runtime.
func (r *Runtime) call(ctx context.Context, logFile string, stdin []byte, args ...string) ([]byte, error) {
	out, err := r.try(ctx, logFile, stdin, args...)
	if err != nil && !errors.Is(err, ErrNotExist) {
		metrics.RuntimeFailures.WithLabelValues(r.Handler, args[0]).Inc()
	}
	return out, err
}

// try is call without the count, for an attempt whose refusal is expected.
func (r *Runtime) try(ctx context.Context, logFile string, stdin []byte, args ...string) ([]byte, error) {
	global := r.GlobalArgs()
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
	msg += r.Hint(msg)
	if args[0] != "create" && strings.Contains(msg, "does not exist") {
		return nil, fmt.Errorf("%s %s: %w: %s", r.Handler, args[0], ErrNotExist, msg)
	}
	return nil, fmt.Errorf("%s %s: %s", r.Handler, args[0], msg)
}

// Hint is what to add to an error message of the runtime to say what to
// do about it, or "": a runtime too old for berth's specs answers only
// "unknown version specified".
func (r *Runtime) Hint(msg string) string {
	if strings.Contains(msg, "unknown version") {
		return fmt.Sprintf(" (%s does not support OCI runtime-spec %s: upgrade it or use another runtime handler)", r.Path, rspec.Version)
	}
	return ""
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
