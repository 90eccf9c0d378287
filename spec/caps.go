package spec

import (
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	"github.com/opencontainers/runtime-tools/generate"
)

// DefaultCapabilities is the set a container gets unless it adds or drops
// some: CRI-O's default list.
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID",
	"CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_KILL",
}

// setCapabilities applies the default set, then add and drop ("ALL" in
// either). A privileged container gets every capability berth itself holds:
// asking the runtime for one the host lacks would fail the container.
func (h *Host) setCapabilities(g *generate.Generator, sc *Security, privileged bool) error {
	host := h.Capabilities
	caps := map[string]bool{}
	if privileged {
		for _, c := range host {
			caps[c] = true
		}
	} else {
		for _, c := range DefaultCapabilities {
			caps[c] = true
		}
		add, drop := sc.CapAdd, sc.CapDrop
		// The order kubelet's other runtimes use: add ALL, drop ALL, then
		// each add, then each drop (so "add ALL, drop X" lacks X).
		if slices.ContainsFunc(add, isAll) {
			for _, h := range host {
				caps[h] = true
			}
		}
		if slices.ContainsFunc(drop, isAll) {
			clear(caps)
		}
		for _, c := range add {
			if !isAll(c) {
				n, err := capName(c)
				if err != nil {
					return err
				}
				caps[n] = true
			}
		}
		for _, c := range drop {
			if !isAll(c) {
				n, err := capName(c)
				if err != nil {
					return err
				}
				delete(caps, n)
			}
		}
	}
	g.ClearProcessCapabilities()
	for _, c := range host { // host order: a stable spec
		if !caps[c] {
			continue
		}
		for _, add := range []func(string) error{g.AddProcessCapabilityBounding, g.AddProcessCapabilityEffective, g.AddProcessCapabilityPermitted} {
			if err := add(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func isAll(c string) bool { return strings.EqualFold(c, "ALL") }

// capName normalises "net_admin" or "CAP_NET_ADMIN" to "CAP_NET_ADMIN".
func capName(c string) (string, error) {
	n := strings.ToUpper(c)
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	for _, k := range capability.ListKnown() {
		if "CAP_"+strings.ToUpper(k.String()) == n {
			return n, nil
		}
	}
	return "", invalidf("unknown capability %q", c)
}

// boundingCapabilities is berth's own bounding set: what the runtime can
// grant. It cannot grow while berth runs, so it is read once, at start-up.
func boundingCapabilities() []string {
	c, err := capability.NewPid2(0)
	if err == nil {
		err = c.Load()
	}
	var out []string
	for _, k := range capability.ListKnown() {
		if err != nil || c.Get(capability.BOUNDING, k) {
			out = append(out, "CAP_"+strings.ToUpper(k.String()))
		}
	}
	return out
}
