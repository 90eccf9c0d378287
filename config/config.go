// Package config holds berth's configuration: the TOML file, its drop-in
// directory, the defaults that work on a fresh Debian machine, and validation.
package config

import (
	"slices"
	"time"
)

// DefaultMetricsAddress serves Prometheus metrics to the node only.
const DefaultMetricsAddress = "127.0.0.1:9538"

// PodMetricGroups are the groups included_pod_metrics may name.
var PodMetricGroups = []string{"cpu", "memory", "network", "disk", "process"}

// Default locations. Every one can be changed in the file or by a flag.
const (
	DefaultConfigFile = "/etc/berth/berth.toml"
	DefaultRoot       = "/var/lib/berth"
	DefaultRunRoot    = "/run/berth"
	DefaultUsernsRoot = "/run/berth-userns"
	DefaultListen     = "/run/berth/berth.sock"
)

// Cgroup drivers berth knows.
const (
	CgroupfsDriver = "cgroupfs"
	SystemdDriver  = "systemd"
)

// Config is the whole configuration in force. Field tags: `toml` is the key,
// `doc` the comment `berth config` prints above it, `reload:"true"` marks the
// keys a SIGHUP applies without a restart.
type Config struct {
	Root              string   `toml:"root" doc:"Persistent state: image layers, the metadata store."`
	RunRoot           string   `toml:"runroot" doc:"Volatile state (lost on reboot): sockets, pinned namespaces, container bundles. Only root may enter it (0700)."`
	UsernsRoot        string   `toml:"userns_root" doc:"Where user-namespaced pods' containers have their root filesystems mounted: a dir others may pass through but not list (0711), with one dir per pod owned by the pod's mapped root. Outside root and runroot, which stay private."`
	Listen            string   `toml:"listen" doc:"Unix socket the CRI gRPC server listens on."`
	LogLevel          string   `toml:"log_level" reload:"true" doc:"One of trace, debug, info, warn, error, fatal, panic."`
	CgroupDriver      string   `toml:"cgroup_driver" doc:"How pod and container cgroups are managed: \"cgroupfs\" or \"systemd\"."`
	StreamAddress     string   `toml:"stream_address" doc:"host:port of the exec/attach/port-forward streaming server (port 0 picks a free one)."`
	StreamIdleTimeout Duration `toml:"stream_idle_timeout" doc:"Close an exec, attach or port-forward stream idle for this long."`
	StreamMaxSessions int      `toml:"stream_max_sessions" doc:"Most exec, attach and port-forward sessions open at once; more are refused."`
	MetricsAddress    string   `toml:"metrics_address" doc:"host:port for Prometheus metrics; empty disables them."`
	// IncludedPodMetrics are the groups of cAdvisor-style metrics that
	// ListPodSandboxMetrics reports (kubelet's /metrics/cadvisor on a node
	// whose stats come from the CRI).
	IncludedPodMetrics []string `toml:"included_pod_metrics" doc:"The metric groups ListPodSandboxMetrics reports for kubelet's /metrics/cadvisor: any of cpu, memory, network, disk, process."`
	AppArmorProfile    string   `toml:"apparmor_profile" doc:"On hosts that enforce AppArmor: the profile of containers that ask for RuntimeDefault or name none. berth-default is berth's own, loaded at start-up with apparmor_parser; another must be loaded by the operator before berth starts. berth refuses to start rather than run them unconfined."`

	Runtime    RuntimeConfig             `toml:"runtime" doc:"OCI runtimes, one handler per RuntimeClass."`
	Conmon     ConmonConfig              `toml:"conmon" doc:"The conmon monitor run for every container."`
	CNI        CNIConfig                 `toml:"cni" reload:"true" doc:"Pod networking through CNI plugins."`
	Pause      PauseConfig               `toml:"pause" doc:"The process that holds each pod's namespaces."`
	Pod        PodConfig                 `toml:"pod" doc:"Per-pod resources berth sets up."`
	Image      ImageConfig               `toml:"image" reload:"true" doc:"Image pulls and the images kept."`
	Hooks      HooksConfig               `toml:"hooks" doc:"OCI hooks the runtime runs for matching containers."`
	CDI        CDIConfig                 `toml:"cdi" doc:"Container Device Interface: the devices device plugins and DRA drivers name (ContainerConfig.cdi_devices and cdi.k8s.io/ annotations)."`
	Tracing    TracingConfig             `toml:"tracing" doc:"OpenTelemetry traces of CRI calls, exported over OTLP/gRPC: one span per call, with a child span per step of a pod's or a container's start. Off by default."`
	Registries map[string]RegistryConfig `toml:"registries" reload:"true" doc:"Per-registry settings, keyed by host[:port] (e.g. \"registry.k8s.io\"). A table in a drop-in file replaces the whole entry of that registry."`
}

// RuntimeConfig lists the OCI runtime handlers.
type RuntimeConfig struct {
	DefaultHandler string                    `toml:"default_handler" doc:"Handler used when a pod names none."`
	Handlers       map[string]RuntimeHandler `toml:"handlers" doc:"Runtime handlers by name. A table in a drop-in file replaces the whole handler of that name."`
	// RestrictOOMScoreAdj is containerd's restrict_oom_score_adj.
	RestrictOOMScoreAdj bool `toml:"restrict_oom_score_adj" doc:"Raise OOM score adjustments below berth's own to berth's own when berth lacks CAP_SYS_RESOURCE (the runtime would fail them). false passes them through as asked."`
}

// RuntimeHandler is one OCI runtime binary and how to call it.
type RuntimeHandler struct {
	Path string   `toml:"path" doc:"Absolute path of the OCI runtime binary (runc or crun)."`
	Root string   `toml:"root" doc:"State directory passed as --root to the runtime."`
	Args []string `toml:"args" doc:"Extra global arguments given to every runtime call."`
}

// ConmonConfig configures the per-container monitor.
type ConmonConfig struct {
	Path       string `toml:"path" doc:"Absolute path of the conmon binary."`
	LogSizeMax int64  `toml:"log_size_max" doc:"Largest a container log file may grow, in bytes; -1 for no limit."`
}

// CNIConfig configures pod networking.
type CNIConfig struct {
	ConfDir        string   `toml:"conf_dir" doc:"Directory of CNI network configurations (.conflist, .conf, .json)."`
	PluginDirs     []string `toml:"plugin_dirs" doc:"Directories searched, in order, for CNI plugin binaries."`
	DefaultNetwork string   `toml:"default_network" doc:"Network used for pods; empty picks the first valid config in conf_dir by file name."`
	Timeout        Duration `toml:"timeout" doc:"Longest one CNI ADD or DEL may take before it is cut off."`
}

// PauseConfig chooses what holds a pod's namespaces.
type PauseConfig struct {
	Command []string `toml:"command" doc:"Built-in pause: a static program run from an empty read-only rootfs; no image pull."`
	Image   string   `toml:"image" doc:"kubelet's pod infra image: reported as pinned so image garbage collection keeps it. The pause process is always the built-in command."`
}

// PodConfig tunes what every pod sandbox gets.
type PodConfig struct {
	ShmSize int64 `toml:"shm_size" doc:"Size in bytes of each pod's /dev/shm tmpfs (pods with host IPC use the host's)."`
}

// ImageConfig tunes image pulls.
type ImageConfig struct {
	PullProgressTimeout Duration `toml:"pull_progress_timeout" doc:"Cancel a pull when no byte arrives for this long (\"0s\" never cancels)."`
	// AuthFile is the node's credentials, for pods without pull secrets.
	AuthFile string `toml:"auth_file" doc:"Registry credentials used when kubelet sends none, in docker's config.json format ({\"auths\": {\"host[:port]\": {\"auth\": \"<base64 user:password>\"}}}); empty for none. Read at start-up and on every SIGHUP; one that does not load stops the start (and on SIGHUP keeps the old)."`
	// CertsDir is containerd's certs.d layout, so an operator's files for
	// containerd or docker work unchanged.
	CertsDir string `toml:"certs_dir" doc:"Per-registry hosts (mirrors with capabilities, server, headers), CA and client certificates in containerd's certs.d layout: <dir>/<host:port>/hosts.toml, or docker's ca.crt, client.cert and client.key; <dir>/_default for every registry without a directory. Read at every pull; empty for none."`
	// ImportDir is for air-gapped nodes and kind-style image loading.
	ImportDir string `toml:"import_dir" doc:"Image archives (docker-archive or OCI archive: *.tar, *.tar.gz, *.tgz, *.tar.zst) imported at start-up, each once while it is unchanged; empty for none. berth image import loads one into a running berth."`
	// PinnedImages are reported pinned, so kubelet's image garbage
	// collection never removes them (CRI-O's pinned_images).
	PinnedImages []string `toml:"pinned_images" doc:"Images kubelet's image garbage collection keeps (reported pinned): references (\"registry.k8s.io/pause:3.10\", normalized like a pull's) or name prefixes ending in \"*\" (\"registry.k8s.io/*\"). The pause image is always pinned."`
}

// HooksConfig says where OCI hooks are.
type HooksConfig struct {
	Dirs []string `toml:"dirs" doc:"Directories of OCI hook files in the hooks.d JSON format of CRI-O and podman ({\"version\": \"1.0.0\", \"hook\": {\"path\": ...}, \"when\": {\"annotations\": {...}}, \"stages\": [\"prestart\"]}); a later directory's file wins over an earlier one of the same name. Changes apply to containers created after them; a directory made after start-up needs a restart, and a hook file that does not load stops the start."`
}

// CDIConfig says where CDI device specs are.
type CDIConfig struct {
	SpecDirs []string `toml:"spec_dirs" doc:"Directories of CDI spec files (JSON or YAML), read whenever a container asks for a CDI device; a later directory wins over an earlier one for the same device. Empty turns CDI off (a container asking for a device is refused)."`
}

// TracingConfig configures OpenTelemetry tracing.
type TracingConfig struct {
	Enabled  bool   `toml:"enabled" doc:"Export traces of CRI calls."`
	Endpoint string `toml:"endpoint" doc:"host:port of the OTLP/gRPC collector (plain text: a collector on the node or reached through a local agent)."`
	// SamplingRatePerMillion follows kubelet's and CRI-O's knob: a call
	// that carries a sampled trace from kubelet is always traced.
	SamplingRatePerMillion int `toml:"sampling_rate_per_million" doc:"How many of a million calls that start a trace are sampled (0 to 1000000); calls in a trace kubelet sampled are always traced."`
}

// RegistryConfig says how to reach one registry.
type RegistryConfig struct {
	Mirrors  []string `toml:"mirrors" doc:"host[:port][/path-prefix] tried in order before the registry itself."`
	Insecure bool     `toml:"insecure" doc:"Plain HTTP, or HTTPS without certificate checks. Loopback registries are plain HTTP already."`
	Blocked  bool     `toml:"blocked" doc:"Refuse every pull from this registry."`
}

// Duration is a time.Duration written in TOML as a string like "90s".
type Duration struct{ time.Duration }

// UnmarshalText parses "90s", "2m" and the like.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration in Go's notation.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Default returns the configuration in force when no file exists.
func Default() *Config {
	return &Config{
		Root:               DefaultRoot,
		RunRoot:            DefaultRunRoot,
		UsernsRoot:         DefaultUsernsRoot,
		Listen:             DefaultListen,
		LogLevel:           "info",
		CgroupDriver:       CgroupfsDriver,
		StreamAddress:      "127.0.0.1:0",
		StreamIdleTimeout:  Duration{15 * time.Minute},
		StreamMaxSessions:  256,
		MetricsAddress:     DefaultMetricsAddress,
		IncludedPodMetrics: slices.Clone(PodMetricGroups),
		AppArmorProfile:    "berth-default",
		Runtime: RuntimeConfig{
			DefaultHandler:      "runc",
			RestrictOOMScoreAdj: true,
			Handlers: map[string]RuntimeHandler{
				// runc 1.5.2 built by hack/install-deps.sh; Debian's 1.1.5 is too old.
				"runc": {Path: "/usr/local/sbin/runc", Root: "/run/berth/runc"},
				// Debian's crun 1.8.1; kept as a second handler (RuntimeClass "crun").
				"crun": {Path: "/usr/bin/crun", Root: "/run/berth/crun"},
			},
		},
		Conmon: ConmonConfig{Path: "/usr/bin/conmon", LogSizeMax: -1},
		CNI: CNIConfig{
			ConfDir:    "/etc/cni/net.d",
			PluginDirs: []string{"/usr/lib/cni", "/opt/cni/bin"},
			Timeout:    Duration{2 * time.Minute},
		},
		Pause:   PauseConfig{Command: []string{"/usr/bin/catatonit", "-P"}},
		Pod:     PodConfig{ShmSize: 64 << 20},
		Tracing: TracingConfig{Endpoint: "127.0.0.1:4317"},
		CDI:     CDIConfig{SpecDirs: []string{"/etc/cdi", "/var/run/cdi"}},
		Hooks:   HooksConfig{Dirs: []string{"/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d"}},
		Image:   ImageConfig{PullProgressTimeout: Duration{time.Minute}, CertsDir: "/etc/berth/certs.d", PinnedImages: []string{}},
	}
}
