package spec

import (
	"slices"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"tags.cncf.io/container-device-interface/pkg/cdi"
)

// CDI resolves Container Device Interface devices ("vendor.com/class=name",
// what device plugins and DRA drivers hand kubelet) from the spec files in
// its directories, and injects what each device's spec says: device
// nodes, mounts, environment, hooks.
type CDI struct {
	dirs  []string
	cache *cdi.Cache
}

// NewCDI reads CDI specs from dirs (later dirs win over earlier ones for
// the same device). No dirs: CDI is off, and a container asking for a
// device is refused.
func NewCDI(dirs []string) *CDI {
	if len(dirs) == 0 {
		return nil
	}
	// Manual refresh: the dirs are scanned when a container asks for a
	// device, not watched by a goroutine for a feature most nodes never use.
	cache, _ := cdi.NewCache(cdi.WithSpecDirs(dirs...), cdi.WithAutoRefresh(false)) // its error is always nil
	return &CDI{dirs: dirs, cache: cache}
}

// cdiDevices are the devices c asks for: its CDI devices, then those of
// its cdi.k8s.io/ annotations (kubelet's older way), each once.
func cdiDevices(c *Container) ([]string, error) {
	_, fromAnnotations, err := cdi.ParseAnnotations(c.Annotations)
	if err != nil {
		return nil, invalidf("CDI annotations: %v", err)
	}
	if len(c.CDIDevices) == 0 && len(fromAnnotations) == 0 {
		return nil, nil // most containers: nothing to allocate on the create path
	}
	slices.Sort(fromAnnotations) // a map's order is not the pod's
	var out []string
	for _, d := range append(slices.Clone(c.CDIDevices), fromAnnotations...) {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// inject adds devices to s. A device no spec defines is the request's
// error: a container never runs without a device it was given.
func (c *CDI) inject(s *rspec.Spec, devices []string) error {
	if c == nil {
		return invalidf("CDI devices %s requested, but CDI is off on this node (cdi.spec_dirs is empty)", strings.Join(devices, ", "))
	}
	// The specs are read again: a driver may have written one since.
	refreshErr := c.cache.Refresh()
	if refreshErr != nil {
		logrus.WithError(refreshErr).Warn("CDI: some spec files do not load")
	}
	unresolved, err := c.cache.InjectDevices(s, devices...)
	if len(unresolved) > 0 {
		msg := "no CDI spec in " + strings.Join(c.dirs, ", ") + " defines " + strings.Join(unresolved, ", ")
		if refreshErr != nil {
			msg += " (specs that did not load: " + refreshErr.Error() + ")"
		}
		return invalidf("%s", msg)
	}
	if err != nil {
		return invalidf("CDI devices %s: %v", strings.Join(devices, ", "), err)
	}
	return nil
}
