package harness

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-dev/berth/test/registry"
)

var (
	catalogueOnce sync.Once
	catalogue     []registry.Image
	catalogueErr  error
)

// CatalogueImage is the catalogue's image served as upstream ref (e.g.
// "registry.k8s.io/e2e-test-images/busybox:1.29-2"), for tests that load
// images without a registry.
func CatalogueImage(t testing.TB, ref string) v1.Image {
	t.Helper()
	for _, img := range loadCatalogue(t) {
		if slices.Contains(img.Refs, ref) {
			return img.Image
		}
	}
	t.Fatalf("no image %s in the test catalogue", ref)
	return nil
}

// Registry serves the critest image catalogue and the hostile images on
// 127.0.0.1 for the rest of the test. They are built once per test process.
func Registry(t testing.TB) *registry.Server {
	t.Helper()
	srv, err := registry.Start("127.0.0.1:0", loadCatalogue(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// loadCatalogue builds the test images once per test process.
func loadCatalogue(t testing.TB) []registry.Image {
	t.Helper()
	catalogueOnce.Do(func() {
		catalogue, catalogueErr = registry.Catalogue(registry.DefaultBusyboxRoot())
		if catalogueErr == nil {
			var hostile []registry.Image
			hostile, catalogueErr = registry.Hostile(registry.DefaultBusyboxRoot())
			catalogue = append(catalogue, hostile...)
		}
	})
	if catalogueErr != nil {
		t.Fatalf("build test images: %v", catalogueErr)
	}
	return catalogue
}

// MirrorConfig is the berth TOML that makes srv a mirror of every upstream
// registry critest pulls from.
func MirrorConfig(srv *registry.Server) string {
	var b strings.Builder
	for _, host := range registry.UpstreamHosts {
		fmt.Fprintf(&b, "[registries.%q]\nmirrors = [%q]\n", host, registry.MirrorPrefix(srv.Addr(), host))
	}
	return b.String()
}

// OversizedRegistry serves the images past berth's bounds
// (registry.Oversized) for the rest of the test, and returns the berth
// TOML that makes it the mirror of their host.
func OversizedRegistry(t testing.TB) string {
	t.Helper()
	images, err := registry.Oversized(registry.DefaultBusyboxRoot())
	if err != nil {
		t.Fatalf("build oversized images: %v", err)
	}
	srv, err := registry.Start("127.0.0.1:0", images)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return fmt.Sprintf("[registries.%q]\nmirrors = [%q]\n", registry.OversizedHost, registry.MirrorPrefix(srv.Addr(), registry.OversizedHost))
}
