package server

import (
	"context"
	"encoding/json"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/sandbox"
)

// PodSandboxStatus reports a pod's state, IPs and namespaces; verbose adds
// the pause process, the netns path and the config it was made from.
func (s *Server) PodSandboxStatus(ctx context.Context, req *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, errNoSandboxID
	}
	rec, err := s.sandboxes.Status(req.GetPodSandboxId())
	if err != nil {
		return nil, toStatus(err)
	}
	// The containers' statuses and the time they were taken: what
	// kubelet's evented PLEG caches the pod from.
	resp := &runtimeapi.PodSandboxStatusResponse{
		Status:             criSandboxStatus(&rec),
		ContainersStatuses: s.podContainerStatuses(rec.ID),
		Timestamp:          time.Now().UnixNano(),
	}
	if req.GetVerbose() {
		info, err := json.Marshal(map[string]any{
			"pid":            rec.PausePID,
			"netns":          rec.NetNS,
			"namespaces":     rec.PauseNS,
			"runtimeHandler": rec.Handler,
			"cgroupsPath":    rec.CgroupsPath,
			"network":        rec.Network,
			"config":         rec.Config,
			"startup":        rec.Startup,
		})
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": string(info)}
	}
	return resp, nil
}

func criSandboxStatus(rec *sandbox.Record) *runtimeapi.PodSandboxStatus {
	st := &runtimeapi.PodSandboxStatus{
		Id:             rec.ID,
		Metadata:       criSandboxMetadata(&rec.Config),
		State:          criSandboxState(rec.State),
		CreatedAt:      rec.CreatedAt.UnixNano(),
		Network:        &runtimeapi.PodSandboxNetworkStatus{},
		Labels:         rec.Config.Labels,
		Annotations:    rec.Config.Annotations,
		RuntimeHandler: rec.Config.RuntimeHandler,
		Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{
			Options: criNamespaceOptions(rec.Config.Namespaces),
		}},
	}
	if ips := rec.Network.IPs; len(ips) > 0 && rec.State == sandbox.Ready {
		st.Network.Ip = ips[0]
		for _, ip := range ips[1:] {
			st.Network.AdditionalIps = append(st.Network.AdditionalIps, &runtimeapi.PodIP{Ip: ip})
		}
	}
	return st
}

func criSandboxMetadata(c *sandbox.Config) *runtimeapi.PodSandboxMetadata {
	return &runtimeapi.PodSandboxMetadata{Name: c.Name, Uid: c.UID, Namespace: c.Namespace, Attempt: c.Attempt}
}

func criSandboxState(s sandbox.State) runtimeapi.PodSandboxState {
	if s == sandbox.Ready {
		return runtimeapi.PodSandboxState_SANDBOX_READY
	}
	return runtimeapi.PodSandboxState_SANDBOX_NOTREADY
}

func criNamespaceOptions(ns sandbox.Namespaces) *runtimeapi.NamespaceOption {
	mode := func(host bool) runtimeapi.NamespaceMode {
		if host {
			return runtimeapi.NamespaceMode_NODE
		}
		return runtimeapi.NamespaceMode_POD
	}
	o := &runtimeapi.NamespaceOption{
		Network: mode(ns.HostNetwork),
		Ipc:     mode(ns.HostIPC),
		Pid:     mode(ns.HostPID),
	}
	if !ns.HostPID && !ns.SharedPID {
		o.Pid = runtimeapi.NamespaceMode_CONTAINER
	}
	return o
}
