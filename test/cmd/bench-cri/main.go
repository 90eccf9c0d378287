// Command bench-cri measures a CRI runtime at the gRPC level, the way
// kubelet drives it, beside the floor of what a pod is made of, measured
// directly in the same run: berth's overhead over the kernel and the OCI
// runtime is one ratio, and another runtime measured the same way is a
// side-by-side comparison.
//
//	bench-cri -berth _output/bin/berth [flags]        a private berth it starts and restarts
//	bench-cri -endpoint unix:///run/containerd/containerd.sock -pid PID [-restart-command CMD] [flags]
//
// It serves its images from a registry of its own on 127.0.0.1 (busybox
// for the workloads, a random 128 MiB image for the pull rate), so nothing
// needs the internet. It prints a table and writes the numbers as JSON
// (-out). See `bench-cri -h` for what is measured and how often.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/test/registry"
)

// Report is everything one run measured.
type Report struct {
	Runtime  string    `json:"runtime"`
	Endpoint string    `json:"endpoint"`
	PodKind  podKind   `json:"pod_kind"`
	When     time.Time `json:"when"`
	CPUs     int       `json:"cpus"`
	// Floor is the direct way (netns, CNI, the OCI runtime); Sequential
	// one pod at a time through the CRI.
	Floor      []Latency `json:"floor"`
	Sequential []Latency `json:"sequential"`
	// Crictl is one pod at a time through crictl, a process per step.
	Crictl   []Latency  `json:"crictl,omitempty"`
	Parallel []Parallel `json:"parallel"`
	Pull     *Pull      `json:"pull,omitempty"`
	Scale    *Scale     `json:"scale,omitempty"`
	// ReadyOverFloor is the p50 of pod + container ready through the CRI
	// over the floor's.
	ReadyOverFloor float64 `json:"ready_over_floor,omitempty"`
	// GoneOverFloor is the same for the way down: stop and remove of the
	// container and the pod over the runtime's deletes and CNI DEL.
	GoneOverFloor float64 `json:"gone_over_floor,omitempty"`
	// CrictlReadyLessOwn is the p50 of pod + container ready through
	// crictl less three times that of crictl version: the part of the
	// three steps that is the runtime's (what crictl's own start-up and
	// call leave), to compare runtimes whose crictl times share that cost.
	CrictlReadyLessOwn float64 `json:"crictl_ready_less_own_ms,omitempty"`
	DaemonRSSMiB       float64 `json:"daemon_rss_idle_mib,omitempty"`
}

type options struct {
	berth, endpoint, restartCommand, handler string
	kind                                     podKind
	// registry is the test registry's host:port: a runtime already
	// running must be told it beforehand (plain HTTP, its pause image).
	registry                             string
	pid                                  int
	runc, pause, busyboxRoot, cniConfDir string
	pluginDirs                           string
	berthArgs                            string
	n, pullRuns, scale, queryRounds      int
	parallel                             []int
	skip                                 []string
	out                                  string
	crictl                               string
	keep                                 bool
}

func parseFlags() (options, error) {
	var o options
	var parallel, skip, kind string
	flag.StringVar(&o.berth, "berth", "", "start a private berth from this binary (own state dirs, socket and CNI network 10.128.0.0/16)")
	flag.StringVar(&o.berthArgs, "berth-args", "", "with -berth: more arguments for it, space-separated (e.g. \"--pprof-address 127.0.0.1:6060\")")
	flag.StringVar(&o.endpoint, "endpoint", "", "the CRI socket of a runtime already running (unix:///...)")
	flag.StringVar(&o.registry, "registry-address", "127.0.0.1:0", "host:port the test registry serves on (fixed, so that a runtime already running can be configured to pull from it over plain HTTP)")
	flag.IntVar(&o.pid, "pid", 0, "with -endpoint: the runtime daemon's pid, for its RSS and the restart")
	flag.StringVar(&o.restartCommand, "restart-command", "", "with -endpoint and -pid: shell command that starts the daemon again after the bench kills it with SIGKILL")
	flag.StringVar(&o.handler, "runtime-handler", "", "RuntimeClass handler of the pods (default: the runtime's default)")
	flag.StringVar(&kind, "pod-kind", string(plainPod), "the pods' kind: plain (no process of their own needed), shared-pid (an init), userns (a user namespace) or userns-shared-pid")
	flag.StringVar(&o.runc, "runc", "/usr/local/sbin/runc", "OCI runtime the floor runs directly")
	flag.StringVar(&o.pause, "pause-binary", "/usr/bin/catatonit", "pause program the floor runs")
	flag.StringVar(&o.busyboxRoot, "busybox-root", registry.DefaultBusyboxRoot(), "Debian's busybox as hack/install-deps.sh unpacks it (the images and the floor's rootfs)")
	flag.StringVar(&o.cniConfDir, "cni-conf-dir", "/etc/cni/net.d", "with -endpoint: the CNI config the floor adds (with -berth the bench's own)")
	flag.StringVar(&o.pluginDirs, "cni-plugin-dirs", "/usr/lib/cni:/opt/cni/bin", "CNI plugin dirs of the floor")
	flag.IntVar(&o.n, "n", 20, "pods made one at a time (each ready, then stopped and removed)")
	flag.StringVar(&parallel, "parallel", "10,50", "pod counts made at once")
	flag.IntVar(&o.scale, "scale", 250, "pods held for the query, memory and restart measures")
	flag.IntVar(&o.queryRounds, "query-rounds", 200, "rounds of the four queries with the scale phase's pods")
	flag.IntVar(&o.pullRuns, "pull-runs", 3, "pulls of the random image")
	flag.StringVar(&skip, "skip", "", "phases left out, comma-separated: floor, sequential, parallel, pull, scale")
	flag.StringVar(&o.crictl, "crictl", "", "also make -n pods one at a time through this crictl binary (runp, create, start; stop, rm, stopp, rmp), a process per step")
	flag.StringVar(&o.out, "out", "bench-cri.json", "where the JSON report goes")
	flag.BoolVar(&o.keep, "keep", false, "keep the scratch dir (berth's log and state)")
	flag.Parse()
	if (o.berth == "") == (o.endpoint == "") {
		return o, fmt.Errorf("give one of -berth or -endpoint")
	}
	if o.restartCommand != "" && o.pid == 0 {
		return o, fmt.Errorf("-restart-command needs -pid")
	}
	for _, f := range strings.Split(parallel, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 {
			return o, fmt.Errorf("-parallel: %q is no pod count", f)
		}
		o.parallel = append(o.parallel, v)
	}
	o.kind = podKind(kind)
	if !slices.Contains(podKinds, o.kind) {
		return o, fmt.Errorf("-pod-kind: %q is no pod kind (%v)", kind, podKinds)
	}
	phases := []string{"floor", "sequential", "parallel", "pull", "scale"}
	for _, p := range strings.Split(skip, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !slices.Contains(phases, p) {
			return o, fmt.Errorf("-skip: %q is no phase (%s)", p, strings.Join(phases, ", "))
		}
		o.skip = append(o.skip, p)
	}
	return o, nil
}

func main() {
	o, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-cri:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-cri:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	env, err := setUp(o)
	if err != nil {
		return err
	}
	defer env.tearDown(o.keep)
	// Interrupted, the bench stops where it is and still cleans up.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := env.cri
	rep := Report{Endpoint: env.endpoint, PodKind: o.kind, When: time.Now().UTC(), CPUs: runtime.NumCPU()}
	v, err := c.rt.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		return fmt.Errorf("Version: %w", err)
	}
	rep.Runtime = v.GetRuntimeName() + " " + v.GetRuntimeVersion()
	if _, err := c.img.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: c.image}}); err != nil {
		return fmt.Errorf("pull %s: %w", c.image, err)
	}
	if env.daemon != nil {
		rep.DaemonRSSMiB = rssMiB(env.daemon.pid())
	}
	skip := func(p string) bool { return slices.Contains(o.skip, p) }
	progress := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench-cri: "+format+"\n", args...) }

	if !skip("floor") {
		progress("floor: %d pods the direct way", o.n)
		s := newSamples()
		for i := range o.n {
			if err := env.floor.sample(ctx, i, s); err != nil {
				return err
			}
		}
		rep.Floor = s.summary("")
	}
	if !skip("sequential") {
		progress("sequential: %d pods, one at a time", o.n)
		s := newSamples()
		for range o.n {
			p, err := c.ready(ctx, s)
			if err != nil {
				return err
			}
			if err := c.teardown(ctx, p, s); err != nil {
				return err
			}
		}
		rep.Sequential = s.summary("")
	}
	if o.crictl != "" {
		progress("crictl: %d pods, one at a time", o.n)
		dir, err := os.MkdirTemp(env.work, "crictl.")
		if err != nil {
			return err
		}
		r := &crictlRun{c: c, binary: o.crictl, endpoint: env.endpoint, dir: dir}
		s := newSamples()
		for range o.n {
			if err := r.sample(ctx, s); err != nil {
				return err
			}
		}
		rep.Crictl = s.summary("")
	}
	if !skip("parallel") {
		for _, n := range o.parallel {
			progress("parallel: %d pods at once", n)
			p, err := c.parallel(ctx, n)
			if err != nil {
				return err
			}
			rep.Parallel = append(rep.Parallel, p)
		}
	}
	if !skip("pull") {
		progress("pull: %d x %d MiB", o.pullRuns, pullLayers*pullLayerSize>>20)
		p, err := c.pull(ctx, env.registry.Ref(pullImageRef), env.pullImage, o.pullRuns)
		if err != nil {
			return err
		}
		rep.Pull = &p
	}
	if !skip("scale") {
		progress("scale: %d pods", o.scale)
		s, err := c.scale(ctx, o.scale, o.queryRounds, env.daemon, env.reconnect)
		if err != nil {
			return err
		}
		s.DaemonRSSIdleMiB = rep.DaemonRSSMiB
		rep.Scale = &s
	}
	rep.ReadyOverFloor = ratio(rep.Sequential, rep.Floor, "pod + container ready", "floor: pod + container ready")
	rep.GoneOverFloor = ratio(rep.Sequential, rep.Floor, "pod + container gone", "floor: pod + container gone")
	rep.CrictlReadyLessOwn = readyLessOwn(rep.Crictl)

	printReport(os.Stdout, &rep)
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(o.out, append(data, '\n'), 0o644)
}

// ratio is the p50 of step a in as over that of b in bs; 0 when either is
// missing.
func ratio(as, bs []Latency, a, b string) float64 {
	x, y := p50Of(as, a), p50Of(bs, b)
	if x == 0 || y == 0 {
		return 0
	}
	return x / y
}

// readyLessOwn is the p50 of the crictl phase's pod + container ready less
// three times that of crictl version (runp, create and start each pay it);
// 0 when either is missing.
func readyLessOwn(crictl []Latency) float64 {
	ready, own := p50Of(crictl, "crictl: pod + container ready"), p50Of(crictl, "crictl version")
	if ready == 0 || own == 0 {
		return 0
	}
	return ready - 3*own
}

// p50Of is the p50 of the step named name in ls; 0 when it is missing.
func p50Of(ls []Latency, name string) float64 {
	for _, l := range ls {
		if l.Name == name {
			return l.P50
		}
	}
	return 0
}
