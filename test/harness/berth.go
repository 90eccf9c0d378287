// Package harness starts real berth daemons for integration tests: a berth
// binary on a private socket and private state dirs, a CRI client for it,
// and the local test registry.
package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Berth is one berth daemon started for a test.
type Berth struct {
	Dir        string // everything of this daemon lives below it
	Socket     string
	ConfigFile string
	LogFile    string

	// rootMount is the filesystem Options.RootSize mounted at the root,
	// not a leftover.
	rootMount bool

	env    []string // Options.Env, kept for restarts
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the process's exit status once exited is closed
	conn   *grpc.ClientConn
}

// Options shape the daemon's configuration.
type Options struct {
	// Config is TOML appended to the generated file (after the top-level
	// keys, so it may only add tables).
	Config string
	// CNIConfDir defaults to an empty directory (networking not ready).
	CNIConfDir string
	// CNI is more TOML lines for the [cni] table (see Network.Config).
	CNI string
	// TopLevel is more top-level TOML keys (e.g. metrics_address).
	TopLevel string
	// Args are extra command-line arguments.
	Args []string
	// Env is more environment for the daemon ("PATH=..." replaces the
	// test's PATH).
	Env []string
	// RootSize, when set, puts berth's root on a loop-mounted ext4 of this
	// size ("16M"): a disk that fills up (see Berth.FillRoot).
	RootSize string
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the berth binary under test: $BERTH_BINARY, or one built
// (with the race detector) once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BERTH_BINARY"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "berth-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "berth")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, "github.com/berth-dev/berth/cmd/berth").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// WriteConfig writes the configuration file for a daemon rooted at dir.
func WriteConfig(t testing.TB, dir string, opts Options) string {
	t.Helper()
	cniDir := opts.CNIConfDir
	if cniDir == "" {
		cniDir = filepath.Join(dir, "cni")
		if err := os.MkdirAll(cniDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Many daemons run at once: none takes the default metrics port
	// unless the test gives it an address.
	if !strings.Contains(opts.TopLevel, "metrics_address") {
		opts.TopLevel += "\nmetrics_address = \"\"\n"
	}
	cfg := fmt.Sprintf(`root = %q
runroot = %q
userns_root = %q
listen = %q
log_level = "debug"
%s
[cni]
conf_dir = %q
%s
`, filepath.Join(dir, "root"), filepath.Join(dir, "run"), filepath.Join(dir, "userns"), filepath.Join(dir, "run", "berth.sock"), opts.TopLevel, cniDir, opts.CNI)
	// The runtimes keep their state below the daemon's dir too, never in
	// /run/berth/<runtime> where a real berth on the machine keeps its own
	// (unless the test configures the handlers itself).
	if !strings.Contains(opts.Config, "[runtime") {
		for _, h := range []struct{ name, path string }{{"runc", "/usr/local/sbin/runc"}, {"crun", "/usr/bin/crun"}} {
			cfg += fmt.Sprintf("[runtime.handlers.%s]\npath = %q\nroot = %q\n", h.name, h.path, filepath.Join(dir, "run", h.name))
		}
	}
	file := filepath.Join(dir, "berth.toml")
	if err := os.WriteFile(file, []byte(cfg+opts.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// Start runs a berth in a fresh temporary directory and waits until it
// answers Version. It is stopped (SIGTERM) when the test ends.
func Start(t testing.TB, opts Options) *Berth {
	t.Helper()
	dir := t.TempDir()
	// The runtime of a container in a user namespace, an unprivileged host
	// user, must pass through this dir (and the test's dir above it, which
	// Go makes 0700) to its rootfs below userns_root.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	b := &Berth{
		Dir:        dir,
		Socket:     filepath.Join(dir, "run", "berth.sock"),
		ConfigFile: WriteConfig(t, dir, opts),
		LogFile:    filepath.Join(dir, "berth.log"),
	}
	if opts.RootSize != "" {
		// Unmounted after berth stops: cleanups run last first.
		mountRoot(t, b.Root(), opts.RootSize)
		b.rootMount = true
	}
	b.env = opts.Env
	b.start(t, opts.Args)
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("berth did not stop cleanly: %v\n%s", err, b.Logs())
		}
		// berth's own pin of the pod inits' mount namespace outlives it,
		// as its pods' pins do; the test's dir cannot go while it is there.
		syscall.Unmount(filepath.Join(dir, "run/ns", PodInitMountNS), syscall.MNT_DETACH)
		if races := b.Races(); races != "" {
			t.Errorf("the race detector reported races in berth:\n%s", races)
		}
	})
	return b
}

// kubeletMaxMsgSize is kubelet's CRI client message limit, 16 MiB.
const kubeletMaxMsgSize = 16 << 20

// raceReport starts each report of Go's race detector.
const raceReport = "WARNING: DATA RACE"

// Races returns the race detector's reports in the daemon's log (over all
// its runs), or "" when there are none: a race-built berth (make
// integration) reports there.
func (b *Berth) Races() string {
	logs := b.Logs()
	i := strings.Index(logs, raceReport)
	if i < 0 {
		return ""
	}
	return logs[i:min(len(logs), i+8000)]
}

func (b *Berth) start(t testing.TB, args []string) {
	t.Helper()
	log, err := os.OpenFile(b.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	b.cmd = exec.Command(Binary(t), append([]string{"--config", b.ConfigFile}, args...)...)
	b.cmd.Env = append(os.Environ(), b.env...)
	b.cmd.Stdout, b.cmd.Stderr = log, log
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.exited = make(chan struct{})
	go func() {
		b.err = b.cmd.Wait()
		close(b.exited)
	}()

	if b.conn != nil {
		b.conn.Close()
	}
	// kubelet's (and crictl's) message limit: a reply berth sends must fit.
	// Reconnects are retried within milliseconds, not gRPC's default
	// second: a test (and the restart benchmark) sees berth the moment it
	// serves.
	conn, err := grpc.NewClient("unix://"+b.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(kubeletMaxMsgSize), grpc.MaxCallSendMsgSize(kubeletMaxMsgSize)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 5 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 20 * time.Millisecond},
			MinConnectTimeout: time.Second,
		}))
	if err != nil {
		t.Fatal(err)
	}
	b.conn = conn
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := b.Runtime().Version(ctx, &runtimeapi.VersionRequest{})
		cancel()
		if err == nil {
			return
		}
		select {
		case <-b.exited:
			t.Fatalf("berth exited during start-up: %v\n%s", b.err, b.Logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("berth did not answer on %s: %v\n%s", b.Socket, err, b.Logs())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Runtime is a CRI RuntimeService client for this daemon.
func (b *Berth) Runtime() runtimeapi.RuntimeServiceClient {
	return runtimeapi.NewRuntimeServiceClient(b.conn)
}

// Image is a CRI ImageService client for this daemon.
func (b *Berth) Image() runtimeapi.ImageServiceClient {
	return runtimeapi.NewImageServiceClient(b.conn)
}

// Signal sends sig to the daemon.
func (b *Berth) Signal(sig syscall.Signal) error { return b.cmd.Process.Signal(sig) }

// Stop sends SIGTERM and waits (up to 30 s) for the daemon to exit; it
// returns the exit status, nil for a clean exit. Calling it twice is fine.
func (b *Berth) Stop() error {
	if b.conn != nil {
		b.conn.Close()
		b.conn = nil
	}
	select {
	case <-b.exited:
		return b.exitErr()
	default:
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
		return b.exitErr()
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
		return errors.New("berth ignored SIGTERM for 30s; killed")
	}
}

// Kill ends the daemon with SIGKILL, as a crash would.
func (b *Berth) Kill() {
	_ = b.cmd.Process.Kill()
	<-b.exited
}

// Restart starts the daemon again on the same directory and configuration.
func (b *Berth) Restart(t testing.TB, args ...string) {
	t.Helper()
	b.start(t, args)
}

func (b *Berth) exitErr() error {
	var ee *exec.ExitError
	if errors.As(b.err, &ee) && ee.Exited() && ee.ExitCode() == 0 {
		return nil
	}
	if b.err != nil && b.cmd.ProcessState != nil && !b.cmd.ProcessState.Exited() {
		return fmt.Errorf("berth was killed: %v", b.err)
	}
	return b.err
}

// Logs returns what the daemon has logged so far.
func (b *Berth) Logs() string {
	data, _ := os.ReadFile(b.LogFile)
	return string(data)
}

// WaitForLog waits up to timeout for the log to contain s.
func (b *Berth) WaitForLog(s string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(b.Logs(), s) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
