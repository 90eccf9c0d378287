package config

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
)

// validate checks the merged configuration and reports the first problem,
// attributed to the file or flag that set the offending key.
func (c *Config) validate(src Sources) error {
	fail := func(key, format string, args ...any) error {
		return &Error{Source: src.sourceOf(key), Key: key, Reason: fmt.Sprintf(format, args...)}
	}
	for key, p := range map[string]string{"root": c.Root, "runroot": c.RunRoot, "userns_root": c.UsernsRoot, "listen": c.Listen} {
		if !filepath.IsAbs(p) {
			return fail(key, "must be an absolute path, got %q", p)
		}
	}
	// The private state dirs would close the way to it.
	for key, p := range map[string]string{"root": c.Root, "runroot": c.RunRoot} {
		if within(c.UsernsRoot, p) {
			return fail("userns_root", "must be outside %s (%s), which only root may enter, got %q", key, p, c.UsernsRoot)
		}
	}
	if c.AppArmorProfile == "" || strings.ContainsAny(c.AppArmorProfile, " \t\n") {
		return fail("apparmor_profile", "must be a profile name, got %q", c.AppArmorProfile)
	}
	if _, err := logrus.ParseLevel(c.LogLevel); err != nil {
		return fail("log_level", "must be one of trace, debug, info, warn, error, fatal, panic, got %q", c.LogLevel)
	}
	if c.CgroupDriver != CgroupfsDriver && c.CgroupDriver != SystemdDriver {
		return fail("cgroup_driver", "must be %q or %q, got %q", CgroupfsDriver, SystemdDriver, c.CgroupDriver)
	}
	if _, _, err := net.SplitHostPort(c.StreamAddress); err != nil {
		return fail("stream_address", "must be host:port: %v", err)
	}
	if c.StreamIdleTimeout.Duration <= 0 {
		return fail("stream_idle_timeout", "must be positive, got %s", c.StreamIdleTimeout.Duration)
	}
	for _, g := range c.IncludedPodMetrics {
		if !slices.Contains(PodMetricGroups, g) {
			return fail("included_pod_metrics", "%q is no metric group; the groups are %s", g, strings.Join(PodMetricGroups, ", "))
		}
	}
	if c.StreamMaxSessions <= 0 {
		return fail("stream_max_sessions", "must be positive, got %d", c.StreamMaxSessions)
	}
	if c.MetricsAddress != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddress); err != nil {
			return fail("metrics_address", "must be host:port or empty: %v", err)
		}
	}
	if c.Tracing.Enabled {
		if _, _, err := net.SplitHostPort(c.Tracing.Endpoint); err != nil {
			return fail("tracing.endpoint", "must be host:port: %v", err)
		}
	}
	if r := c.Tracing.SamplingRatePerMillion; r < 0 || r > 1_000_000 {
		return fail("tracing.sampling_rate_per_million", "must be between 0 and 1000000, got %d", r)
	}
	if err := c.validateRuntime(fail); err != nil {
		return err
	}
	if !filepath.IsAbs(c.Conmon.Path) {
		return fail("conmon.path", "must be an absolute path, got %q", c.Conmon.Path)
	}
	if c.Conmon.LogSizeMax < -1 || c.Conmon.LogSizeMax == 0 {
		return fail("conmon.log_size_max", "must be a positive number of bytes or -1, got %d", c.Conmon.LogSizeMax)
	}
	if !filepath.IsAbs(c.CNI.ConfDir) {
		return fail("cni.conf_dir", "must be an absolute path, got %q", c.CNI.ConfDir)
	}
	for _, d := range c.CNI.PluginDirs {
		if !filepath.IsAbs(d) {
			return fail("cni.plugin_dirs", "must hold absolute paths, got %q", d)
		}
	}
	for _, d := range c.CDI.SpecDirs {
		if !filepath.IsAbs(d) {
			return fail("cdi.spec_dirs", "must hold absolute paths, got %q", d)
		}
	}
	for _, d := range c.Hooks.Dirs {
		if !filepath.IsAbs(d) {
			return fail("hooks.dirs", "must hold absolute paths, got %q", d)
		}
	}
	if c.CNI.Timeout.Duration <= 0 {
		return fail("cni.timeout", "must be positive, got %s", c.CNI.Timeout.Duration)
	}
	if len(c.Pause.Command) == 0 || !filepath.IsAbs(c.Pause.Command[0]) {
		return fail("pause.command", "must start with an absolute path, got %q", c.Pause.Command)
	}
	if c.Pod.ShmSize <= 0 {
		return fail("pod.shm_size", "must be a positive number of bytes, got %d", c.Pod.ShmSize)
	}
	if c.Image.PullProgressTimeout.Duration < 0 {
		return fail("image.pull_progress_timeout", "must not be negative, got %s", c.Image.PullProgressTimeout.Duration)
	}
	if c.Image.ImportDir != "" && !filepath.IsAbs(c.Image.ImportDir) {
		return fail("image.import_dir", "must be an absolute path, got %q", c.Image.ImportDir)
	}
	if c.Image.CertsDir != "" && !filepath.IsAbs(c.Image.CertsDir) {
		return fail("image.certs_dir", "must be an absolute path, got %q", c.Image.CertsDir)
	}
	if c.Image.AuthFile != "" && !filepath.IsAbs(c.Image.AuthFile) {
		return fail("image.auth_file", "must be an absolute path, got %q", c.Image.AuthFile)
	}
	for _, p := range c.Image.PinnedImages {
		if prefix, glob := strings.CutSuffix(p, "*"); p == "" || (glob && prefix == "") || strings.Contains(prefix, "*") {
			return fail("image.pinned_images", "%q is neither an image reference nor a name prefix ending in one \"*\"", p)
		}
	}
	return c.validateRegistries(fail)
}

type failFunc func(key, format string, args ...any) error

func (c *Config) validateRuntime(fail failFunc) error {
	if _, ok := c.Runtime.Handlers[c.Runtime.DefaultHandler]; !ok {
		return fail("runtime.default_handler", "names no handler in runtime.handlers (have %s)", strings.Join(c.HandlerNames(), ", "))
	}
	for _, name := range c.HandlerNames() {
		h := c.Runtime.Handlers[name]
		key := "runtime.handlers." + name
		if !filepath.IsAbs(h.Path) {
			return fail(key+".path", "must be an absolute path, got %q", h.Path)
		}
		if !filepath.IsAbs(h.Root) {
			return fail(key+".root", "must be an absolute path, got %q", h.Root)
		}
	}
	return nil
}

func (c *Config) validateRegistries(fail failFunc) error {
	for _, host := range c.RegistryHosts() {
		key := fmt.Sprintf("registries.%q", host)
		if err := checkRegistryHost(host); err != nil {
			return fail(key, "%v", err)
		}
		for _, m := range c.Registries[host].Mirrors {
			hostPart, _, _ := strings.Cut(m, "/")
			if err := checkRegistryHost(hostPart); err != nil {
				return fail(key+".mirrors", "mirror %q: %v", m, err)
			}
		}
	}
	return nil
}

// checkRegistryHost accepts "host" and "host:port" the way image references
// spell a registry.
func checkRegistryHost(h string) error {
	if h == "" || strings.ContainsAny(h, "/ \t@") || strings.Contains(h, "://") {
		return fmt.Errorf("must be host or host:port without a scheme, got %q", h)
	}
	if strings.Contains(h, ":") {
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			return fmt.Errorf("must be host or host:port, got %q", h)
		}
	}
	return nil
}

// HandlerNames lists the runtime handlers sorted by name.
func (c *Config) HandlerNames() []string {
	names := make([]string, 0, len(c.Runtime.Handlers))
	for n := range c.Runtime.Handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RegistryHosts lists the configured registries sorted by host.
func (c *Config) RegistryHosts() []string {
	hosts := make([]string, 0, len(c.Registries))
	for h := range c.Registries {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return hosts
}

// within says whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
