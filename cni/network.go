// Package cni owns pod networking through CNI plugins: finding the network
// configuration, telling whether networking is ready, and (later) ADD/DEL.
package cni

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

var confExtensions = []string{".conflist", ".conf", ".json"}

// loadNetwork picks the network pods use: the one named defaultNet, or else the
// first valid configuration in confDir by file name (as kubelet and CRI-O do).
// It also checks that every plugin of the chain exists in pluginDirs, so
// NetworkReady never reports true for a network that cannot work.
func loadNetwork(confDir string, pluginDirs []string, defaultNet string) (*libcni.NetworkConfigList, error) {
	files, err := libcni.ConfFiles(confDir, confExtensions)
	if err != nil {
		return nil, fmt.Errorf("read CNI config dir %s: %w", confDir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no CNI network config found in %s", confDir)
	}
	var problems []string
	for _, f := range files {
		list, err := loadFile(f)
		if err == nil && defaultNet != "" && list.Name != defaultNet {
			continue
		}
		if err == nil {
			err = checkPlugins(list, pluginDirs)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", filepath.Base(f), err))
			continue
		}
		return list, nil
	}
	if defaultNet != "" {
		msg := fmt.Sprintf("CNI network %q not found in %s", defaultNet, confDir)
		if len(problems) > 0 {
			msg += " (unreadable: " + strings.Join(problems, "; ") + ")"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	return nil, fmt.Errorf("no valid CNI network config in %s: %s", confDir, strings.Join(problems, "; "))
}

// loadFile reads a .conflist, or a single-plugin .conf turned into a list.
func loadFile(path string) (*libcni.NetworkConfigList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Plugins json.RawMessage `json:"plugins"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if probe.Plugins != nil {
		return libcni.NetworkConfFromBytes(data)
	}
	single, err := libcni.NetworkPluginConfFromBytes(data)
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromConf(single)
}

func checkPlugins(list *libcni.NetworkConfigList, pluginDirs []string) error {
	if len(list.Plugins) == 0 {
		return fmt.Errorf("network %q has no plugins", list.Name)
	}
	for _, p := range list.Plugins {
		if _, err := findPlugin(p.Network.Type, pluginDirs); err != nil {
			return fmt.Errorf("network %q: %w", list.Name, err)
		}
	}
	return nil
}

func findPlugin(name string, dirs []string) (string, error) {
	if name == "" || strings.ContainsRune(name, '/') {
		return "", fmt.Errorf("invalid plugin type %q", name)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("plugin %q not found in %s", name, strings.Join(dirs, ", "))
}
