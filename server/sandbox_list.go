package server

import (
	"context"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/sandbox"
)

// ListPodSandbox lists the pods that match the filter (ID or ID prefix,
// state, labels), oldest first.
func (s *Server) ListPodSandbox(ctx context.Context, req *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	return &runtimeapi.ListPodSandboxResponse{Items: s.listSandboxes(req.GetFilter())}, nil
}

func (s *Server) listSandboxes(f *runtimeapi.PodSandboxFilter) []*runtimeapi.PodSandbox {
	recs := s.sandboxes.List() // oldest first
	out := []*runtimeapi.PodSandbox{}
	for i := range recs {
		rec := &recs[i]
		if !sandboxMatches(rec, f) {
			continue
		}
		out = append(out, &runtimeapi.PodSandbox{
			Id:             rec.ID,
			Metadata:       criSandboxMetadata(&rec.Config),
			State:          criSandboxState(rec.State),
			CreatedAt:      rec.CreatedAt.UnixNano(),
			Labels:         rec.Config.Labels,
			Annotations:    rec.Config.Annotations,
			RuntimeHandler: rec.Config.RuntimeHandler,
		})
	}
	return out
}

func sandboxMatches(rec *sandbox.Record, f *runtimeapi.PodSandboxFilter) bool {
	if f == nil {
		return true
	}
	if f.GetId() != "" && !strings.HasPrefix(rec.ID, f.GetId()) {
		return false
	}
	if st := f.GetState(); st != nil && st.GetState() != criSandboxState(rec.State) {
		return false
	}
	return labelsMatch(rec.Config.Labels, f.GetLabelSelector())
}

// labelsMatch reports whether labels hold every key=value of the selector.
func labelsMatch(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
