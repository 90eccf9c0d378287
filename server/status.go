package server

import (
	"context"
	"encoding/json"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

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
		cfg, err := json.Marshal(s.config())
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"config": string(cfg), "apparmor": s.appArmorState()}
	}
	return resp, nil
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
