package server

import (
	"context"
	"encoding/json"
	"fmt"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/spec"
)

// Status reports whether the runtime and pod networking are ready. Networking
// follows the CNI config directory: it turns ready when a valid network
// appears and not ready when it goes away, without a restart.
func (s *Server) Status(ctx context.Context, req *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	network := &runtimeapi.RuntimeCondition{Type: runtimeapi.NetworkReady, Status: true}
	if err := s.cni.Ready(); err != nil {
		network.Status = false
		network.Reason = "NetworkPluginNotReady"
		network.Message = err.Error()
	}
	resp := &runtimeapi.StatusResponse{
		Status: &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
			{Type: runtimeapi.RuntimeReady, Status: true},
			network,
		}},
		RuntimeHandlers: s.runtimeHandlers(),
		// Merge and Strict are both built, and ContainerStatus reports the user.
		Features: &runtimeapi.RuntimeFeatures{SupplementalGroupsPolicy: true},
	}
	if req.GetVerbose() {
		info, err := s.statusInfo()
		if err != nil {
			return nil, err
		}
		resp.Info = info
	}
	return resp, nil
}

// statusInfo is what `crictl info` prints beside the conditions, each
// value JSON: the configuration in force, the pod network, the registry
// settings in force and the host facts berth probed.
func (s *Server) statusInfo() (map[string]string, error) {
	cfg := s.config()
	runtimes := map[string]any{}
	for _, name := range s.runtimes.Names() {
		if rt, err := s.runtimes.Get(name); err == nil {
			runtimes[name] = map[string]any{"path": rt.Path, "features": rt.Features()}
		}
	}
	registries := cfg.Registries
	if registries == nil {
		registries = map[string]config.RegistryConfig{}
	}
	parts := map[string]any{
		"config": cfg,
		"cni":    s.cni.State(),
		"registries": map[string]any{
			"registries":    registries,
			"certs_dir":     cfg.Image.CertsDir,
			"certs.d":       image.HostsDir(cfg.Image.CertsDir).Summary(),
			"auth_file":     cfg.Image.AuthFile,
			"pinned_images": pinPatterns(cfg),
		},
		"host": map[string]any{
			"facts":      s.host.Facts(),
			"runtimes":   runtimes,
			"hooks_dirs": cfg.Hooks.Dirs,
		},
	}
	info := map[string]string{"apparmor": s.appArmorState()}
	for k, v := range parts {
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("status info %s: %w", k, err)
		}
		info[k] = string(data)
	}
	return info, nil
}

// runtimeHandlers lists the configured handlers; "" is the default one.
// A feature is claimed when the runtime says it has it (probed once) and
// berth implements it.
func (s *Server) runtimeHandlers() []*runtimeapi.RuntimeHandler {
	features := func(name string) *runtimeapi.RuntimeHandlerFeatures {
		rt, err := s.runtimes.Get(name)
		if err != nil {
			return &runtimeapi.RuntimeHandlerFeatures{}
		}
		f := rt.Features()
		return &runtimeapi.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: f.RecursiveReadOnlyMounts, UserNamespaces: f.UserNamespaces}
	}
	handlers := []*runtimeapi.RuntimeHandler{{Name: "", Features: features("")}}
	for _, name := range s.runtimes.Names() {
		handlers = append(handlers, &runtimeapi.RuntimeHandler{Name: name, Features: features(name)})
	}
	return handlers
}

// appArmorState says in Status what AppArmor confinement pods can get here.
func (s *Server) appArmorState() string {
	if s.host.AppArmor.Enabled {
		return "enabled: RuntimeDefault uses " + spec.DefaultAppArmorProfile + " when loaded; Localhost profiles must be loaded"
	}
	return "not enabled on this kernel: RuntimeDefault runs unconfined, Localhost profiles are refused"
}
