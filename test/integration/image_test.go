//go:build integration

package integration

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/testpki"
	"github.com/berth-dev/berth/test/harness"
	"github.com/berth-dev/berth/test/registry"
)

func pullImage(t *testing.T, b *harness.Berth, ref string) string {
	t.Helper()
	resp, err := b.Image().PullImage(ctx(t), &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	return resp.ImageRef
}

func imageStatus(t *testing.T, b *harness.Berth, ref string) *runtimeapi.Image {
	t.Helper()
	resp, err := b.Image().ImageStatus(ctx(t), &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Image
}

// Images pulled through the configured mirror keep their upstream names,
// survive a crash of berth, and are listed, inspected and removed.
func TestImagesThroughMirrorSurviveCrash(t *testing.T) {
	reg := harness.Registry(t)
	b := harness.Start(t, harness.Options{Config: harness.MirrorConfig(reg)})

	const busybox = "registry.k8s.io/e2e-test-images/busybox:1.29-2"
	const pause = "k8s.gcr.io/pause:3.9"
	id := pullImage(t, b, busybox)
	pullImage(t, b, pause)
	pullImage(t, b, "registry.k8s.io/pause:3.9")

	st := imageStatus(t, b, busybox)
	if st.GetId() != id || len(st.RepoTags) != 1 || st.RepoTags[0] != busybox || st.Size == 0 {
		t.Fatalf("status: %+v", st)
	}
	pauseSt := imageStatus(t, b, pause)
	if len(pauseSt.RepoTags) != 2 {
		t.Fatalf("the same pause image from two registries must carry both tags, got %v", pauseSt.RepoTags)
	}
	if u := imageStatus(t, b, "gcr.io/k8s-staging-cri-tools/test-image-user-uid:latest"); u != nil {
		t.Fatal("an image never pulled must have an empty status")
	}
	pullImage(t, b, "gcr.io/k8s-staging-cri-tools/test-image-user-uid")
	if u := imageStatus(t, b, "gcr.io/k8s-staging-cri-tools/test-image-user-uid"); u.GetUid().GetValue() != 1002 {
		t.Fatalf("uid from the image's USER: got %+v", u)
	}

	fs, err := b.Image().ImageFsInfo(ctx(t), &runtimeapi.ImageFsInfoRequest{})
	if err != nil || len(fs.ImageFilesystems) != 1 || fs.ImageFilesystems[0].UsedBytes.GetValue() == 0 {
		t.Fatalf("imagefsinfo: %v %v", fs, err)
	}

	b.Kill()
	b.Restart(t)
	list, err := b.Image().ListImages(ctx(t), &runtimeapi.ListImagesRequest{})
	if err != nil || len(list.Images) != 3 {
		t.Fatalf("after a crash want the 3 images back, got %v %v", list, err)
	}
	if st := imageStatus(t, b, id); st.GetId() != id {
		t.Fatal("image lost by the crash")
	}
	stream, err := b.Image().StreamImages(ctx(t), &runtimeapi.StreamImagesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	streamed := 0
	for {
		msg, err := stream.Recv()
		if err != nil {
			break
		}
		streamed += len(msg.Images)
	}
	if streamed != 3 {
		t.Fatalf("StreamImages sent %d images, want 3", streamed)
	}
	verbose, err := b.Image().ImageStatus(ctx(t), &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: busybox}, Verbose: true})
	if err != nil || !strings.Contains(verbose.Info["info"], `"imageSpec"`) || !strings.Contains(verbose.Info["info"], `"Cmd"`) {
		t.Fatalf("verbose status should carry the image config: %v %v", verbose.GetInfo(), err)
	}

	// Remove by one tag keeps the image under the other.
	if _, err := b.Image().RemoveImage(ctx(t), &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: pause}}); err != nil {
		t.Fatal(err)
	}
	if st := imageStatus(t, b, "registry.k8s.io/pause:3.9"); st == nil || len(st.RepoTags) != 1 {
		t.Fatalf("other tag lost: %v", st)
	}
	if _, err := b.Image().RemoveImage(ctx(t), &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: id}}); err != nil {
		t.Fatal(err)
	}
	if imageStatus(t, b, busybox) != nil {
		t.Fatal("image still there after removal by ID")
	}
	if _, err := b.Image().RemoveImage(ctx(t), &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: id}}); err != nil {
		t.Fatalf("removing a missing image must succeed: %v", err)
	}
}

func TestPullErrorsHaveClearCodes(t *testing.T) {
	reg := harness.Registry(t)
	b := harness.Start(t, harness.Options{Config: harness.MirrorConfig(reg) + "[registries.\"blocked.example\"]\nblocked = true\n"})
	cases := map[string]codes.Code{
		"":                                     codes.InvalidArgument,
		"UPPER/case:1":                         codes.InvalidArgument,
		"blocked.example/x:1":                  codes.PermissionDenied,
		reg.Addr() + "/registry.k8s.io/none:1": codes.NotFound,
	}
	for ref, want := range cases {
		_, err := b.Image().PullImage(ctx(t), &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
		if status.Code(err) != want {
			t.Errorf("pull %q: want %v, got %v", ref, want, err)
		}
	}
}

func TestConcurrentPullsThroughBerth(t *testing.T) {
	reg := harness.Registry(t)
	b := harness.Start(t, harness.Options{Config: harness.MirrorConfig(reg)})
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = pullImage(t, b, "registry.k8s.io/e2e-test-images/nginx:1.14-2")
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("concurrent pulls disagree: %v", ids)
		}
	}
}

// image.pinned_images are reported pinned, in ListImages and ImageStatus,
// so kubelet's image garbage collection keeps them; a SIGHUP applies a new
// list, and a bad one keeps the old.
func TestPinnedImagesFollowTheConfig(t *testing.T) {
	reg := harness.Registry(t)
	const pinned = "[image]\npinned_images = [\"registry.k8s.io/e2e-test-images/*\"]\n"
	b := harness.Start(t, harness.Options{Config: harness.MirrorConfig(reg) + pinned})
	pullImage(t, b, busyboxImage)
	pullImage(t, b, stopSignalImage)
	want := func(when string, busybox, other bool) {
		t.Helper()
		if got := imageStatus(t, b, busyboxImage).GetPinned(); got != busybox {
			t.Errorf("%s: %s pinned %v, want %v", when, busyboxImage, got, busybox)
		}
		if got := imageStatus(t, b, stopSignalImage).GetPinned(); got != other {
			t.Errorf("%s: %s pinned %v, want %v", when, stopSignalImage, got, other)
		}
		list, err := b.Image().ListImages(ctx(t), &runtimeapi.ListImagesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, img := range list.GetImages() {
			if img.GetPinned() != imageStatus(t, b, img.GetId()).GetPinned() {
				t.Errorf("%s: ListImages and ImageStatus disagree on %v", when, img.GetRepoTags())
			}
		}
	}
	want("at start-up", true, false)

	reload := func(from, to, logged string) {
		t.Helper()
		orig, err := os.ReadFile(b.ConfigFile)
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(orig), from, to, 1)
		if changed == string(orig) {
			t.Fatalf("the test could not rewrite the config:\n%s", orig)
		}
		if err := os.WriteFile(b.ConfigFile, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := b.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if !b.WaitForLog(logged, 10*time.Second) {
			t.Fatalf("%q not logged after SIGHUP:\n%s", logged, b.Logs())
		}
	}
	reload(pinned, "[image]\npinned_images = [\"berth-test/stopsignal:1\", \"registry.k8s.io/berth-test/stopsignal:1\"]\n", "key=image")
	want("after SIGHUP", false, true)
	reload("\"berth-test/stopsignal:1\", ", "\"*\", ", "configuration not reloaded")
	want("after a bad SIGHUP", false, true)
}

// An auth file that does not load stops berth's start with a line naming
// it: the operator's credentials are never dropped quietly.
func TestBrokenAuthFileStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	auth := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(auth, []byte(`{"auths": `), 0o600); err != nil {
		t.Fatal(err)
	}
	file := harness.WriteConfig(t, dir, harness.Options{Config: fmt.Sprintf("[image]\nauth_file = %q\n", auth)})
	out, err := exec.Command(harness.Binary(t), "--config", file).CombinedOutput()
	if err == nil {
		t.Fatalf("berth started with a broken auth file:\n%s", out)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); !strings.Contains(lines[len(lines)-1], "auth file "+auth) {
		t.Fatalf("the last line does not name the auth file:\n%s", out)
	}
}

// TestPullThroughCertsDir: an air-gapped node's certs.d sends
// registry.k8s.io to a mirror with a CA of its own that also wants a
// client certificate; no berth.toml mirror is set. The files are read at
// every pull, and a broken hosts.toml is the operator's to fix.
func TestPullThroughCertsDir(t *testing.T) {
	reg := harness.Registry(t)
	ca := testpki.New(t)
	// The mirror serves the test registry's copy of registry.k8s.io at
	// its root, over TLS, to clients with a certificate ca signed.
	upstream, _ := url.Parse("http://" + reg.Addr())
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	direct := proxy.Director
	proxy.Director = func(r *http.Request) {
		direct(r)
		if rest, ok := strings.CutPrefix(r.URL.Path, "/v2/"); ok && rest != "" {
			r.URL.Path = "/v2" + strings.TrimPrefix(registry.MirrorPrefix(reg.Addr(), "registry.k8s.io"), reg.Addr()) + "/" + rest
		}
	}
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	mirror := httptest.NewUnstartedServer(proxy)
	mirror.Listener = l
	mirror.TLS = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{ca.Server(t, net.ParseIP("127.0.0.2"))},
		ClientCAs:    ca.Pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
	mirror.StartTLS()
	t.Cleanup(mirror.Close)

	certs := t.TempDir()
	b := harness.Start(t, harness.Options{Config: fmt.Sprintf("[image]\ncerts_dir = %q\n", certs)})
	pull := func() error {
		_, err := b.Image().PullImage(ctx(t), &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: busyboxImage}})
		return err
	}
	dir := filepath.Join(certs, "registry.k8s.io")
	hosts := fmt.Sprintf("[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n  ca = \"ca.pem\"\n  client = [[\"client.cert\", \"client.key\"]]\n", "https://"+l.Addr().String())
	clientCert, clientKey := ca.Client(t)
	writeFile(t, filepath.Join(dir, "hosts.toml"), hosts)
	writeFile(t, filepath.Join(dir, "ca.pem"), string(ca.CAPEM))
	writeFile(t, filepath.Join(dir, "client.cert"), string(clientCert))
	if err := pull(); status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "client.key") {
		t.Fatalf("hosts.toml naming a missing key: %v; want FailedPrecondition naming the file", err)
	}
	writeFile(t, filepath.Join(dir, "client.key"), string(clientKey))
	if err := pull(); err != nil {
		t.Fatalf("pull through the certs.d mirror: %v\n%s", err, b.Logs())
	}
	pulledFromMirror := func(line string) bool {
		return strings.Contains(line, "image pulled") && strings.Contains(line, l.Addr().String())
	}
	if !slices.ContainsFunc(strings.Split(b.Logs(), "\n"), pulledFromMirror) {
		t.Fatalf("the pull did not come from the mirror:\n%s", b.Logs())
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
