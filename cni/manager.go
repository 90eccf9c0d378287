package cni

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/containernetworking/cni/libcni"

	"github.com/berth-dev/berth/config"
)

// Manager hands out the pod network configuration. It re-reads the config
// directory when it changes, so NetworkReady follows the files without a
// restart, and can be given a new configuration on SIGHUP.
type Manager struct {
	cacheDir string // libcni's cache of ADD results and configs, for DEL

	mu      sync.Mutex
	cfg     config.CNIConfig
	stamp   string // fingerprint of the conf dir the cached result was read from
	network *libcni.NetworkConfigList
	err     error
}

// NewManager returns a manager for the given CNI configuration; libcni keeps
// what DEL needs under cacheDir.
func NewManager(cfg config.CNIConfig, cacheDir string) *Manager {
	return &Manager{cfg: cfg, cacheDir: cacheDir}
}

func (m *Manager) config() config.CNIConfig {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

// Reload replaces the configuration (SIGHUP).
func (m *Manager) Reload(cfg config.CNIConfig) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg = cfg
	m.stamp = ""
}

// Network returns the network pods join, or why there is none.
func (m *Manager) Network() (*libcni.NetworkConfigList, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	stamp := fingerprint(m.cfg.ConfDir, m.cfg.PluginDirs)
	if stamp != m.stamp || m.stamp == "" {
		m.network, m.err = loadNetwork(m.cfg.ConfDir, m.cfg.PluginDirs, m.cfg.DefaultNetwork)
		m.stamp = stamp
	}
	return m.network, m.err
}

// Ready reports nil when pods can be networked, else the reason.
func (m *Manager) Ready() error {
	_, err := m.Network()
	return err
}

// State is the pod network as `crictl info` shows it.
type State struct {
	ConfDir        string   `json:"conf_dir"`
	PluginDirs     []string `json:"plugin_dirs"`
	DefaultNetwork string   `json:"default_network,omitempty"`
	// Network is the network pods join, with its plugins in chain order.
	Network    string   `json:"network,omitempty"`
	CNIVersion string   `json:"cni_version,omitempty"`
	Plugins    []string `json:"plugins,omitempty"`
	// Error is why there is no network (the last load's).
	Error string `json:"error,omitempty"`
}

// State loads the network if the dir changed and reports it.
func (m *Manager) State() State {
	list, err := m.Network()
	cfg := m.config()
	st := State{ConfDir: cfg.ConfDir, PluginDirs: cfg.PluginDirs, DefaultNetwork: cfg.DefaultNetwork}
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Network, st.CNIVersion = list.Name, list.CNIVersion
	for _, p := range list.Plugins {
		st.Plugins = append(st.Plugins, p.Network.Type)
	}
	return st
}

// fingerprint summarises the names, sizes and times of the config files and
// the plugin directories; a few stat calls instead of parsing JSON each time.
func fingerprint(confDir string, pluginDirs []string) string {
	var b []byte
	for _, d := range append([]string{confDir}, pluginDirs...) {
		b = appendStat(b, d)
	}
	entries, _ := os.ReadDir(confDir)
	for _, e := range entries {
		b = appendStat(b, filepath.Join(confDir, e.Name()))
	}
	return string(b)
}

func appendStat(b []byte, path string) []byte {
	b = append(b, path...)
	if st, err := os.Stat(path); err == nil {
		b = strconv.AppendInt(append(b, ' '), st.ModTime().UnixNano(), 10)
		b = strconv.AppendInt(append(b, ' '), st.Size(), 10)
	}
	return append(b, 0)
}
