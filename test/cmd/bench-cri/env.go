package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/registry"
)

// The private berth's network: its own bridge and subnet, room for the
// scale phase's pods.
const (
	benchNetwork = "berth-bench-cri"
	benchBridge  = "berthbenchcri"
	benchSubnet  = "10.128.0.0/16"
)

const workloadImage = "registry.k8s.io/e2e-test-images/busybox:1.29-2"

// env is what a run stands on: the registry, the runtime (started here or
// not), its CRI clients and the floor.
type env struct {
	work      string
	registry  *registry.Server
	pullImage v1.Image
	endpoint  string
	conn      *grpc.ClientConn
	cri       *cri
	daemon    daemon
	berth     *berthDaemon // when the bench started it
	floor     *floor
}

func setUp(o options) (_ *env, err error) {
	work, err := os.MkdirTemp("", "bench-cri.")
	if err != nil {
		return nil, err
	}
	// Containers in a user namespace pass through it to their rootfs.
	if err := os.Chmod(work, 0o711); err != nil {
		return nil, err
	}
	e := &env{work: work}
	defer func() {
		if err != nil {
			e.tearDown(o.keep)
		}
	}()
	images, err := registry.Catalogue(o.busyboxRoot)
	if err != nil {
		return nil, err
	}
	if e.pullImage, err = pullImage(); err != nil {
		return nil, err
	}
	images = append(images, registry.Image{Refs: []string{pullImageRef}, Image: e.pullImage, Why: "bench-cri's pull rate"})
	if e.registry, err = registry.Start(o.registry, images); err != nil {
		return nil, err
	}

	cniConfDir := o.cniConfDir
	e.endpoint = o.endpoint
	if o.berth != "" {
		cniConfDir = filepath.Join(work, "cni")
		if err := writeConflist(cniConfDir); err != nil {
			return nil, err
		}
		if e.berth, err = startBerth(o.berth, strings.Fields(o.berthArgs), work, cniConfDir); err != nil {
			return nil, err
		}
		e.endpoint, e.daemon = "unix://"+e.berth.socket, e.berth
	} else if o.pid != 0 {
		e.daemon = &externalDaemon{pidNow: o.pid, command: o.restartCommand}
	}
	if err := e.reconnect(); err != nil {
		return nil, err
	}
	if err := e.cri.waitServing(time.Minute); err != nil {
		return nil, err
	}
	e.cri.image = e.registry.Ref(workloadImage)
	e.cri.handler, e.cri.kind = o.handler, o.kind
	e.cri.logRoot = filepath.Join(work, "pod-logs")
	if !slices.Contains(o.skip, "floor") {
		if e.floor, err = newFloor(filepath.Join(work, "floor"), o.runc, o.pause, o.busyboxRoot, cniConfDir, strings.Split(o.pluginDirs, ":")); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// reconnect makes a new client connection (after a restart) that
// reconnects within milliseconds, not gRPC's default second.
func (e *env) reconnect() error {
	if e.conn != nil {
		e.conn.Close()
	}
	conn, err := grpc.NewClient(e.endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: time.Millisecond, Multiplier: 1.2, MaxDelay: 5 * time.Millisecond},
			MinConnectTimeout: time.Second,
		}))
	if err != nil {
		return err
	}
	e.conn = conn
	if e.cri == nil {
		e.cri = &cri{}
	}
	e.cri.rt, e.cri.img = runtimeapi.NewRuntimeServiceClient(conn), runtimeapi.NewImageServiceClient(conn)
	return nil
}

func (e *env) tearDown(keep bool) {
	if e.cri != nil && e.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		e.cri.removeLeftovers(ctx)
		cancel()
	}
	if e.conn != nil {
		e.conn.Close()
	}
	if e.berth != nil {
		e.berth.stop()
		exec.Command("ip", "link", "delete", benchBridge).Run()
		os.RemoveAll(filepath.Join("/var/lib/cni/networks", benchNetwork))
	}
	if e.registry != nil {
		e.registry.Close()
	}
	if keep {
		fmt.Fprintf(os.Stderr, "bench-cri: kept %s\n", e.work)
		return
	}
	if err := unmountUnder(e.work); err != nil {
		fmt.Fprintf(os.Stderr, "bench-cri: %v\n", err)
	}
	exec.Command("rm", "-rf", "--one-file-system", e.work).Run()
}

// unmountUnder detaches every mount under dir, deepest first. berth leaves
// some pins on purpose when it stops (the pod inits' mount namespace, which
// the next berth on the same dirs replaces); the bench's dirs have no next
// berth, and rm --one-file-system would leave the pin and its dir behind.
func unmountUnder(dir string) error {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return fmt.Errorf("mounts under %s: %w", dir, err)
	}
	slices.SortFunc(mounts, func(a, b *mountinfo.Info) int { return len(b.Mountpoint) - len(a.Mountpoint) })
	var errs []error
	for _, m := range mounts {
		if err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m.Mountpoint, err))
		}
	}
	return errors.Join(errs...)
}

// writeConflist writes the private berth's network: bridge, host-local and
// portmap, as a node's usual CNI config.
func writeConflist(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	exec.Command("ip", "link", "delete", benchBridge).Run() // an earlier run's
	conf := map[string]any{
		"cniVersion": "1.0.0", "name": benchNetwork,
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": benchBridge, "isGateway": true, "ipMasq": true, "hairpinMode": true,
				"ipam": map[string]any{
					"type": "host-local", "routes": []any{map[string]any{"dst": "0.0.0.0/0"}},
					"ranges": []any{[]any{map[string]any{"subnet": benchSubnet}}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "10-"+benchNetwork+".conflist"), data, 0o644)
}

// berthDaemon is a berth the bench started, on its own dirs and socket.
type berthDaemon struct {
	binary, config, log, socket string
	args                        []string
	cmd                         *exec.Cmd
	exited                      chan struct{}
}

func startBerth(binary string, args []string, work, cniConfDir string) (*berthDaemon, error) {
	b := &berthDaemon{binary: binary, args: args, config: filepath.Join(work, "berth.toml"), log: filepath.Join(work, "berth.log"), socket: filepath.Join(work, "run", "berth.sock")}
	cfg := fmt.Sprintf(`root = %q
runroot = %q
userns_root = %q
listen = %q
metrics_address = ""
[cni]
conf_dir = %q
[runtime.handlers.runc]
path = "/usr/local/sbin/runc"
root = %q
`, filepath.Join(work, "root"), filepath.Join(work, "run"), filepath.Join(work, "userns"), b.socket, cniConfDir, filepath.Join(work, "run", "runc"))
	if err := os.WriteFile(b.config, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	return b, b.start()
}

func (b *berthDaemon) start() error {
	log, err := os.OpenFile(b.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	b.cmd = exec.Command(b.binary, append([]string{"--config", b.config}, b.args...)...)
	b.cmd.Stdout, b.cmd.Stderr = log, log
	if err := b.cmd.Start(); err != nil {
		return err
	}
	b.exited = make(chan struct{})
	go func() { b.cmd.Wait(); close(b.exited) }()
	return nil
}

func (b *berthDaemon) pid() int         { return b.cmd.Process.Pid }
func (b *berthDaemon) canRestart() bool { return true }

func (b *berthDaemon) restart() error {
	b.cmd.Process.Kill()
	<-b.exited
	return b.start()
}

func (b *berthDaemon) stop() {
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(time.Minute):
		b.cmd.Process.Kill()
		<-b.exited
	}
}

// externalDaemon is a runtime the operator started; the bench can kill it
// and, given the command, start it again.
type externalDaemon struct {
	pidNow  int
	command string
}

func (d *externalDaemon) pid() int         { return d.pidNow }
func (d *externalDaemon) canRestart() bool { return d.command != "" }

func (d *externalDaemon) restart() error {
	if d.command == "" {
		return fmt.Errorf("no -restart-command to start the daemon again")
	}
	if err := syscall.Kill(d.pidNow, syscall.SIGKILL); err != nil {
		return err
	}
	for syscall.Kill(d.pidNow, 0) == nil {
		time.Sleep(time.Millisecond)
	}
	cmd := exec.Command("sh", "-c", d.command)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	d.pidNow = 0 // unknown from here on
	return nil
}
