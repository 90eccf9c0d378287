package server

import (
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/sandbox"
)

func TestSandboxMatches(t *testing.T) {
	rec := &sandbox.Record{
		ID:     "0123456789abcdef",
		State:  sandbox.Ready,
		Config: sandbox.Config{Labels: map[string]string{"app": "web", "tier": "front"}},
	}
	state := func(s runtimeapi.PodSandboxState) *runtimeapi.PodSandboxStateValue {
		return &runtimeapi.PodSandboxStateValue{State: s}
	}
	tests := []struct {
		name   string
		filter *runtimeapi.PodSandboxFilter
		want   bool
	}{
		{"nil filter", nil, true},
		{"empty filter", &runtimeapi.PodSandboxFilter{}, true},
		{"full id", &runtimeapi.PodSandboxFilter{Id: "0123456789abcdef"}, true},
		{"id prefix", &runtimeapi.PodSandboxFilter{Id: "0123"}, true},
		{"other id", &runtimeapi.PodSandboxFilter{Id: "fedc"}, false},
		{"id longer than the sandbox's", &runtimeapi.PodSandboxFilter{Id: "0123456789abcdef0"}, false},
		{"ready state", &runtimeapi.PodSandboxFilter{State: state(runtimeapi.PodSandboxState_SANDBOX_READY)}, true},
		{"notready state", &runtimeapi.PodSandboxFilter{State: state(runtimeapi.PodSandboxState_SANDBOX_NOTREADY)}, false},
		{"empty selector", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{}}, true},
		{"selector subset", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"app": "web"}}, true},
		{"selector equal", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"app": "web", "tier": "front"}}, true},
		{"selector wrong value", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"app": "db"}}, false},
		{"selector extra key", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"app": "web", "env": "prod"}}, false},
		{"selector empty value needs the key", &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"env": ""}}, false},
		{
			"all match",
			&runtimeapi.PodSandboxFilter{Id: "01", State: state(runtimeapi.PodSandboxState_SANDBOX_READY), LabelSelector: map[string]string{"tier": "front"}},
			true,
		},
		{
			"one of all fails",
			&runtimeapi.PodSandboxFilter{Id: "01", State: state(runtimeapi.PodSandboxState_SANDBOX_NOTREADY), LabelSelector: map[string]string{"tier": "front"}},
			false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sandboxMatches(rec, tt.filter); got != tt.want {
				t.Fatalf("sandboxMatches(%v) = %v; want %v", tt.filter, got, tt.want)
			}
		})
	}
}

func TestSandboxMatchesNotReady(t *testing.T) {
	rec := &sandbox.Record{ID: "abc", State: sandbox.NotReady}
	notReady := &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_NOTREADY}}
	if !sandboxMatches(rec, notReady) {
		t.Error("a notready sandbox must match the notready filter")
	}
	withLabel := &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"app": "web"}}
	if sandboxMatches(rec, withLabel) {
		t.Error("a sandbox without labels must not match a non-empty selector")
	}
}
