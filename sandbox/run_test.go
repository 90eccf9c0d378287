package sandbox

import (
	"errors"
	"testing"
)

// Pod metadata goes into CNI_ARGS ("K=V;K=V"): a name that would add or
// change an argument is refused before anything is made.
func TestResolveRefusesCNIArgInjection(t *testing.T) {
	m := &Manager{}
	for _, cfg := range []Config{
		{Name: "web;IgnoreUnknown=1", Namespace: "default", UID: "u1"},
		{Name: "web", Namespace: "default;K8S_POD_NAME=other", UID: "u1"},
		{Name: "web", Namespace: "default", UID: "u=1", Namespaces: Namespaces{HostNetwork: true}},
	} {
		if _, err := m.resolve(&cfg); !errors.Is(err, ErrInvalid) {
			t.Errorf("resolve(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}
