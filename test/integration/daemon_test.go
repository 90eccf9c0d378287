//go:build integration

// Integration tests run real berth daemons as root. Run them with
// `make integration` (go test -tags integration ./test/integration/...).
package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/harness"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func networkReady(t *testing.T, b *harness.Berth) *runtimeapi.RuntimeCondition {
	t.Helper()
	resp, err := b.Runtime().Status(ctx(t), &runtimeapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var runtimeReady bool
	var network *runtimeapi.RuntimeCondition
	for _, c := range resp.GetStatus().GetConditions() {
		switch c.GetType() {
		case runtimeapi.RuntimeReady:
			runtimeReady = c.GetStatus()
		case runtimeapi.NetworkReady:
			network = c
		}
	}
	if !runtimeReady || network == nil {
		t.Fatalf("want RuntimeReady true and a NetworkReady condition, got %v", resp.GetStatus())
	}
	return network
}

func TestVersionStatusRuntimeConfig(t *testing.T) {
	b := harness.Start(t, harness.Options{})
	v, err := b.Runtime().Version(ctx(t), &runtimeapi.VersionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.RuntimeName != "berth" || v.RuntimeApiVersion != "v1" || v.Version != "0.1.0" || v.RuntimeVersion == "" {
		t.Fatalf("unexpected version: %+v", v)
	}

	// No CNI config yet: network not ready, with a reason a person can act on.
	if c := networkReady(t, b); c.Status || c.Reason == "" || !strings.Contains(c.Message, "no CNI network config found") {
		t.Fatalf("want NetworkReady false with a reason, got %+v", c)
	}

	rc, err := b.Runtime().RuntimeConfig(ctx(t), &runtimeapi.RuntimeConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rc.GetLinux().GetCgroupDriver() != runtimeapi.CgroupDriver_CGROUPFS {
		t.Fatalf("want cgroupfs, got %v", rc.GetLinux().GetCgroupDriver())
	}

	verbose, err := b.Runtime().Status(ctx(t), &runtimeapi.StatusRequest{Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(verbose.Info["config"], b.Socket) {
		t.Fatalf("verbose status should carry the config in force, got %v", verbose.Info)
	}
	names := map[string]bool{}
	for _, h := range verbose.RuntimeHandlers {
		names[h.Name] = true
	}
	if !names[""] || !names["runc"] || !names["crun"] {
		t.Fatalf("want the default, runc and crun handlers, got %v", verbose.RuntimeHandlers)
	}
}

func TestNetworkReadyFollowsCNIConfigWithoutRestart(t *testing.T) {
	cniDir := t.TempDir()
	b := harness.Start(t, harness.Options{CNIConfDir: cniDir})
	if networkReady(t, b).Status {
		t.Fatal("network must not be ready with an empty CNI dir")
	}
	conf, err := os.ReadFile("../../hack/cni/10-berth.conflist")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cniDir, "10-berth.conflist"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if c := networkReady(t, b); !c.Status {
		t.Fatalf("network should be ready once a valid config appears: %+v", c)
	}
	if err := os.Remove(filepath.Join(cniDir, "10-berth.conflist")); err != nil {
		t.Fatal(err)
	}
	if networkReady(t, b).Status {
		t.Fatal("network should turn not ready when the config goes away")
	}
}

func TestRPCsNotBuiltYetAreUnimplemented(t *testing.T) {
	b := harness.Start(t, harness.Options{})
	_, err := b.Runtime().RestorePod(ctx(t), &runtimeapi.RestorePodRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("want Unimplemented, got %v", err)
	}
}

// A metrics address another program holds costs the metrics, not berth:
// it starts, serves the CRI and says why there are no metrics.
func TestTakenMetricsPortIsNotFatal(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b := harness.Start(t, harness.Options{TopLevel: fmt.Sprintf("metrics_address = %q", l.Addr().String())})
	if !b.WaitForLog("no Prometheus metrics", 10*time.Second) {
		t.Errorf("berth does not say why it serves no metrics:\n%s", b.Logs())
	}
}

func TestSocketPermissions(t *testing.T) {
	b := harness.Start(t, harness.Options{})
	st, err := os.Stat(b.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode = %v, want socket 0660", st.Mode())
	}
	dir, err := os.Stat(filepath.Dir(b.Socket))
	if err != nil {
		t.Fatal(err)
	}
	if dir.Mode().Perm() != 0o700 {
		t.Fatalf("socket dir mode = %v, want 0700", dir.Mode().Perm())
	}
}

// A second berth on a socket a live berth answers on must refuse to start
// and must not disturb the first.
func TestSecondBerthOnSameSocketRefused(t *testing.T) {
	b := harness.Start(t, harness.Options{})
	out, err := exec.Command(harness.Binary(t), "--config", b.ConfigFile).CombinedOutput()
	var ee *exec.ExitError
	if err == nil || !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second berth: want exit 1, got %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "another process is serving on "+b.Socket) {
		t.Fatalf("second berth should say why it refused, got:\n%s", out)
	}
	if _, err := b.Runtime().Version(ctx(t), &runtimeapi.VersionRequest{}); err != nil {
		t.Fatalf("first berth stopped answering: %v", err)
	}
}

// A berth killed with SIGKILL leaves its socket file behind; the next start
// removes the stale socket and serves.
func TestStaleSocketAfterCrash(t *testing.T) {
	b := harness.Start(t, harness.Options{})
	b.Kill()
	if _, err := os.Stat(b.Socket); err != nil {
		t.Fatalf("expected a stale socket after SIGKILL: %v", err)
	}
	b.Restart(t)
	if _, err := b.Runtime().Version(ctx(t), &runtimeapi.VersionRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestSIGTERMExitsZero(t *testing.T) {
	b := harness.Start(t, harness.Options{})
	if err := b.Stop(); err != nil {
		t.Fatalf("want exit 0 on SIGTERM, got %v\n%s", err, b.Logs())
	}
	if !strings.Contains(b.Logs(), "shutting down") {
		t.Fatalf("shutdown not logged:\n%s", b.Logs())
	}
}

func TestSIGHUPReloadsWhatItCan(t *testing.T) {
	b := harness.Start(t, harness.Options{})
	orig, err := os.ReadFile(b.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}

	// log_level is reloadable; root is not.
	changed := strings.Replace(string(orig), `log_level = "debug"`, `log_level = "info"`, 1)
	changed = strings.Replace(changed, `root = "`, `root = "/elsewhere`, 1)
	if err := os.WriteFile(b.ConfigFile, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !b.WaitForLog("key=log_level", 10*time.Second) || !b.WaitForLog("needs a restart", 10*time.Second) {
		t.Fatalf("reload not logged as expected:\n%s", b.Logs())
	}
	// At info level the per-RPC debug lines stop.
	before := strings.Count(b.Logs(), "method=/runtime.v1.RuntimeService/Version")
	if _, err := b.Runtime().Version(ctx(t), &runtimeapi.VersionRequest{}); err != nil {
		t.Fatal(err)
	}
	if after := strings.Count(b.Logs(), "method=/runtime.v1.RuntimeService/Version"); after != before {
		t.Fatalf("log level still debug after reload (%d -> %d RPC lines)", before, after)
	}

	// A broken file on SIGHUP keeps the old configuration and the daemon.
	if err := os.WriteFile(b.ConfigFile, []byte("log_level = \"loud\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !b.WaitForLog("configuration not reloaded", 10*time.Second) {
		t.Fatalf("broken config on SIGHUP not reported:\n%s", b.Logs())
	}
	if _, err := b.Runtime().Version(ctx(t), &runtimeapi.VersionRequest{}); err != nil {
		t.Fatalf("berth stopped answering after a bad reload: %v", err)
	}
}

// A bad configuration makes berth exit non-zero with one line naming the
// file, the key and the reason.
func TestBadConfigExitsWithOneLine(t *testing.T) {
	dir := t.TempDir()
	file := harness.WriteConfig(t, dir, harness.Options{Config: "[runtime.handlers.runc]\npath = \"runc\"\nroot = \"/run/x\"\n"})
	out, err := exec.Command(harness.Binary(t), "--config", file).CombinedOutput()
	if err == nil {
		t.Fatalf("berth started with a bad config:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := "berth: " + file + `: runtime.handlers.runc.path: must be an absolute path, got "runc"`
	if len(lines) != 1 || lines[0] != want {
		t.Fatalf("want exactly\n%s\ngot\n%s", want, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "berth.sock")); err == nil {
		t.Fatal("a berth with a bad config must not create its socket")
	}
}

func TestConfigCommands(t *testing.T) {
	bin := harness.Binary(t)
	defaults, err := exec.Command(bin, "config").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "berth.toml")
	if err := os.WriteFile(file, defaults, 0o644); err != nil {
		t.Fatal(err)
	}
	dropIn := filepath.Join(dir, "berth.toml.d")
	if err := os.MkdirAll(dropIn, 0o755); err != nil {
		t.Fatal(err)
	}
	mirror := "[registries.\"registry.k8s.io\"]\nmirrors = [\"127.0.0.1:5000/registry.k8s.io\"]\n"
	if err := os.WriteFile(filepath.Join(dropIn, "50-mirror.toml"), []byte(mirror), 0o644); err != nil {
		t.Fatal(err)
	}
	eff, err := exec.Command(bin, "--config", file, "--log-level", "warn", "config", "--effective").Output()
	if err != nil {
		t.Fatalf("the printed defaults must load back: %v", err)
	}
	for _, want := range []string{`log_level = "warn"`, `mirrors = ["127.0.0.1:5000/registry.k8s.io"]`, `[runtime.handlers.runc]`} {
		if !strings.Contains(string(eff), want) {
			t.Errorf("effective config lacks %q:\n%s", want, eff)
		}
	}
	ver, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(ver), "berth version ") {
		t.Fatalf("version: %v %s", err, ver)
	}
}

// SIGHUP applies new `registries` and `cni` settings without a restart:
// a registry blocked at start serves pulls through its mirror after the
// reload, and a pod network configured after start runs pods.
func TestSIGHUPReloadsRegistriesAndCNI(t *testing.T) {
	reg := harness.Registry(t)
	n := harness.NewNetwork(t, "berth-it-reload", "berthitreload", "10.124.16.0/24")
	empty := t.TempDir()
	b := harness.Start(t, harness.Options{
		CNIConfDir: empty, CNI: n.Config("2m"),
		Config: "[registries.\"registry.k8s.io\"]\nblocked = true\n",
	})
	_, err := b.Image().PullImage(ctx(t), &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: busyboxImage}})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("pull from a blocked registry: want PermissionDenied, got %v", err)
	}
	if networkReady(t, b).Status {
		t.Fatal("network ready with an empty CNI dir")
	}

	orig, err := os.ReadFile(b.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(orig), "[registries.\"registry.k8s.io\"]\nblocked = true\n", harness.MirrorConfig(reg), 1)
	changed = strings.Replace(changed, fmt.Sprintf("conf_dir = %q", empty), fmt.Sprintf("conf_dir = %q", n.ConfDir), 1)
	if changed == string(orig) || !strings.Contains(changed, n.ConfDir) || strings.Contains(changed, "blocked") {
		t.Fatalf("the test could not rewrite the config:\n%s", changed)
	}
	if err := os.WriteFile(b.ConfigFile, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !b.WaitForLog("key=registries", 10*time.Second) || !b.WaitForLog("key=cni", 10*time.Second) {
		t.Fatalf("reload of registries and cni not logged:\n%s", b.Logs())
	}
	pullImage(t, b, busyboxImage)
	if c := networkReady(t, b); !c.Status {
		t.Fatalf("network not ready after the reload: %+v", c)
	}
	parent := cgroupParent(t)
	resp, err := b.Runtime().RunPodSandbox(slowCtx(t), &runtimeapi.RunPodSandboxRequest{Config: podConfig("reloaded", parent)})
	if err != nil {
		t.Fatalf("a pod on the reloaded network: %v", err)
	}
	st, _ := podStatus(t, b, resp.GetPodSandboxId())
	if st.GetNetwork().GetIp() == "" {
		t.Errorf("the pod got no IP from the reloaded network")
	}
	removePod(t, b, resp.GetPodSandboxId())
}

// notifySocket is a fake systemd notify socket: the datagrams berth sends
// to $NOTIFY_SOCKET, one state message each.
func notifySocket(t *testing.T) (path string, next func(what string) string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return path, func(what string) string {
		t.Helper()
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no notification while waiting for %s: %v", what, err)
		}
		return string(buf[:n])
	}
}

// Under systemd (Type=notify) berth says READY=1 once its CRI socket
// serves, RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 on
// SIGTERM.
func TestSystemdNotifications(t *testing.T) {
	sock, next := notifySocket(t)
	b := harness.Start(t, harness.Options{Env: []string{"NOTIFY_SOCKET=" + sock}})
	if got := next("READY=1"); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	if err := b.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	got := next("RELOADING=1")
	if !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Fatalf("on SIGHUP %q, want RELOADING=1 with MONOTONIC_USEC", got)
	}
	if got := next("READY=1 after the reload"); got != "READY=1" {
		t.Fatalf("after the reload %q, want READY=1", got)
	}
	if _, err := b.Runtime().Version(ctx(t), &runtimeapi.VersionRequest{}); err != nil {
		t.Fatalf("after the reload: %v", err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- b.Stop() }()
	if got := next("STOPPING=1"); got != "STOPPING=1" {
		t.Fatalf("on SIGTERM %q, want STOPPING=1", got)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// TestCrictlInfo: `crictl info` shows the pod network, the registry
// settings in force and the host facts berth probed.
func TestCrictlInfo(t *testing.T) {
	cniDir, certs, cdiDir := t.TempDir(), t.TempDir(), t.TempDir()
	conf, err := os.ReadFile("../../hack/cni/10-berth.conflist")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(cniDir, "10-berth.conflist"):            string(conf),
		filepath.Join(certs, "registry.k8s.io", "hosts.toml"): "[host.\"https://mirror.internal:5000\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
		filepath.Join(cdiDir, "vendor.json"):                  `{"cdiVersion": "0.6.0", "kind": "berth.test/gpu", "devices": [{"name": "gpu0", "containerEdits": {"env": ["X=1"]}}]}`,
	}
	for path, data := range files {
		writeFile(t, path, data)
	}
	b := harness.Start(t, harness.Options{CNIConfDir: cniDir, Config: fmt.Sprintf("[image]\ncerts_dir = %q\n[cdi]\nspec_dirs = [%q]\n", certs, cdiDir)})
	cmd := exec.Command(harness.Crictl(t), "--runtime-endpoint", "unix://"+b.Socket, "info")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("crictl info: %v\n%s", err, stderr.String())
	}
	var info struct {
		CNI struct {
			Network string   `json:"network"`
			Plugins []string `json:"plugins"`
		} `json:"cni"`
		Registries struct {
			CertsDir string              `json:"certs_dir"`
			CertsD   map[string][]string `json:"certs.d"`
		} `json:"registries"`
		Host struct {
			Facts struct {
				CgroupVersion     string   `json:"cgroup_version"`
				CgroupControllers []string `json:"cgroup_controllers"`
				Seccomp           []string `json:"seccomp_architectures"`
				CDISpecDirs       []string `json:"cdi_spec_dirs"`
				CDIDevices        []string `json:"cdi_devices"`
			} `json:"facts"`
			Runtimes map[string]struct {
				Features struct{ Seccomp, UserNamespaces bool }
			} `json:"runtimes"`
		} `json:"host"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("crictl info is not JSON: %v\n%s", err, out)
	}
	if info.CNI.Network != "berth" || !slices.Contains(info.CNI.Plugins, "bridge") {
		t.Errorf("cni: %+v; want the berth network with its bridge plugin", info.CNI)
	}
	if info.Registries.CertsDir != certs || !slices.Contains(info.Registries.CertsD["registry.k8s.io"], "https://mirror.internal:5000/v2 (pull, resolve)") {
		t.Errorf("registries: %+v; want the certs.d mirror", info.Registries)
	}
	f := info.Host.Facts
	if (f.CgroupVersion != "v1" && f.CgroupVersion != "v2") || !slices.Contains(f.CgroupControllers, "memory") || len(f.Seccomp) == 0 || !slices.Equal(f.CDISpecDirs, []string{cdiDir}) || !slices.Equal(f.CDIDevices, []string{"berth.test/gpu=gpu0"}) {
		t.Errorf("host facts: %+v", f)
	}
	if rt, ok := info.Host.Runtimes["runc"]; !ok || !rt.Features.Seccomp {
		t.Errorf("runtimes: %+v; want runc, built with seccomp", info.Host.Runtimes)
	}
}
