package registry

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var testCatalogue struct {
	once   sync.Once
	images []Image
	err    error
}

// busyboxRoot returns the busybox root the images are built from, skipping
// the test when it is not there.
func busyboxRoot(t *testing.T) string {
	t.Helper()
	root := DefaultBusyboxRoot()
	if _, err := os.Stat(filepath.Join(root, "bin", "busybox")); err != nil {
		t.Skipf("cannot build the images: busybox root %s is missing (hack/install-deps.sh unpacks it there, or set BERTH_BUSYBOX_ROOT): %v", root, err)
	}
	return root
}

// catalogue builds the catalogue once for all tests.
func catalogue(t *testing.T) []Image {
	t.Helper()
	root := busyboxRoot(t)
	testCatalogue.once.Do(func() { testCatalogue.images, testCatalogue.err = Catalogue(root) })
	if testCatalogue.err != nil {
		t.Fatal(testCatalogue.err)
	}
	return testCatalogue.images
}

// want is what critest relies on in one image.
type want struct {
	entrypoint, cmd []string
	user            string
	workingDir      string
	ports           []string
	stopSignal      string
	scratch         bool // not busybox-based
	files           map[string]file
	absent          []string
}

// file is what a test expects of one file of an image.
type file struct {
	typ      byte
	mode     int64 // permission, setuid and sticky bits
	uid, gid int
	linkTo   string // hard link target
	contains string // in a regular file
}

var (
	exe     = file{typ: tar.TypeReg, mode: 0o755}
	nginxFS = map[string]file{
		"usr/sbin/nginx":                  exe,
		"usr/share/nginx/html/index.html": {typ: tar.TypeReg, mode: 0o644, contains: "Welcome to nginx!"},
		"var/run":                         {typ: tar.TypeDir, mode: 0o755},
	}
)

func marker(name string) want {
	var others []string
	for _, m := range []string{"test-image-latest", "test", "all", "test-image-1", "test-image-2", "test-image-3", "same-image", "test-image-digest"} {
		if m != name {
			others = append(others, m)
		}
	}
	return want{cmd: []string{"sh"}, files: map[string]file{name: {typ: tar.TypeReg, mode: 0o644}}, absent: others}
}

// wants holds every reference critest v1.36.0 pulls, and the images of
// berth's own tests; each image of the catalogue is listed with all its
// references, in order.
var wants = []struct {
	refs []string
	want want
}{
	{[]string{"registry.k8s.io/e2e-test-images/busybox:1.29-2"}, want{cmd: []string{"sh"}}},
	{[]string{"registry.k8s.io/berth-test/stopsignal:1"}, want{cmd: []string{"sh"}, stopSignal: "SIGUSR2"}},
	{[]string{"registry.k8s.io/e2e-test-images/nginx:1.14-2"}, want{
		cmd: []string{"nginx", "-g", "daemon off;"}, ports: []string{"80/tcp"}, stopSignal: "SIGTERM",
		files: merge(nginxFS, map[string]file{"etc/nginx/conf.d/default.conf": {typ: tar.TypeReg, mode: 0o644, contains: "listen       80;"}}),
	}},
	{[]string{"gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64:latest"}, want{
		entrypoint: []string{"/docker-entrypoint.sh"}, cmd: []string{"nginx", "-g", "daemon off;"}, ports: []string{"80/tcp"}, stopSignal: "SIGQUIT",
		files: merge(nginxFS, map[string]file{
			"etc/nginx/conf.d/default.conf": {typ: tar.TypeReg, mode: 0o644, contains: "listen       12003;"},
			"docker-entrypoint.sh":          {typ: tar.TypeReg, mode: 0o755, contains: `exec "$@"`},
		}),
	}},
	{[]string{"registry.k8s.io/e2e-test-images/httpd:2.4.39-4"}, want{
		cmd: []string{"httpd-foreground"}, workingDir: "/usr/local/apache2", ports: []string{"80/tcp"},
		files: map[string]file{
			"usr/local/apache2/bin/httpd":            exe,
			"usr/local/apache2/bin/httpd-foreground": {typ: tar.TypeReg, mode: 0o755, contains: "exec httpd -DFOREGROUND"},
			"usr/local/apache2/conf/httpd.conf":      {typ: tar.TypeReg, mode: 0o644, contains: "Listen 80\n"},
			"usr/local/apache2/htdocs/index.html":    {typ: tar.TypeReg, mode: 0o644, contains: "It works!"},
			"usr/local/apache2/logs":                 {typ: tar.TypeDir, mode: 0o755},
		},
	}},
	{[]string{"registry.k8s.io/e2e-test-images/nonewprivs:1.3"}, want{
		cmd:   []string{"nnp"},
		files: map[string]file{"usr/local/bin/nnp": {typ: tar.TypeReg, mode: 0o4755}},
	}},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-user-uid:latest"}, want{cmd: []string{"sh"}, user: "1002"}},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-user-username:latest"}, want{cmd: []string{"sh"}, user: "www-data"}},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-user-uid-group:latest"}, want{cmd: []string{"sh"}, user: "1003:1004"}},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-user-username-group:latest"}, want{cmd: []string{"sh"}, user: "www-data:1004"}},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-predefined-group:latest"}, want{
		cmd: []string{"sh"}, user: "1000",
		files: map[string]file{
			"etc/passwd":        {typ: tar.TypeReg, mode: 0o644, contains: "\ndefault-user:x:1000:1000:"},
			"etc/group":         {typ: tar.TypeReg, mode: 0o644, contains: "\ndefault-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n"},
			"home/default-user": {typ: tar.TypeDir, mode: 0o755, uid: 1000, gid: 1000},
		},
	}},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-latest:latest"}, marker("test-image-latest")},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-tag:test"}, marker("test")},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-tag:all"}, marker("all")},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-1:latest"}, marker("test-image-1")},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-2:latest"}, marker("test-image-2")},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-3:latest"}, marker("test-image-3")},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-tags:1", "gcr.io/k8s-staging-cri-tools/test-image-tags:2", "gcr.io/k8s-staging-cri-tools/test-image-tags:3"}, marker("same-image")},
	{[]string{"gcr.io/k8s-staging-cri-tools/test-image-digest:latest"}, marker("test-image-digest")},
	{[]string{"registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"}, pauseWant},
	{[]string{"registry.k8s.io/pause:3.10", "k8s.gcr.io/pause:3.10"}, pauseWant},
	{[]string{"registry.k8s.io/pause:3.10.1"}, pauseWant},
	{[]string{"public.ecr.aws/docker/library/busybox:1.35.0-glibc"}, want{cmd: []string{"sh"}}},
	{[]string{"public.ecr.aws/docker/library/busybox:1-uclibc"}, want{cmd: []string{"sh"}}},
	{[]string{"public.ecr.aws/docker/library/busybox:1"}, want{cmd: []string{"sh"}}},
	{[]string{"public.ecr.aws/docker/library/busybox:1-glibc"}, want{cmd: []string{"sh"}}},
	{[]string{"public.ecr.aws/docker/library/busybox:1-musl"}, want{cmd: []string{"sh"}}},
}

var pauseWant = want{
	entrypoint: []string{"/pause"}, user: "65535:65535", workingDir: "/", scratch: true,
	files:  map[string]file{"pause": exe},
	absent: []string{"bin/busybox", "bin/sh", "etc/passwd"},
}

func merge(maps ...map[string]file) map[string]file {
	out := map[string]file{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// busyboxFS is what every busybox-based image holds.
var busyboxFS = map[string]file{
	"bin/busybox":                         exe,
	"lib64/ld-linux-x86-64.so.2":          exe,
	"lib/x86_64-linux-gnu/libc.so.6":      exe,
	"lib/x86_64-linux-gnu/libresolv.so.2": {typ: tar.TypeReg, mode: 0o644},
	"usr/bin/pgrep":                       exe,
	"usr/bin/ipcs":                        {typ: tar.TypeLink, linkTo: "usr/bin/pgrep"},
	"bin/sh":                              {typ: tar.TypeLink, linkTo: "bin/busybox"},
	"bin/ls":                              {typ: tar.TypeLink, linkTo: "bin/busybox"}, // MaskedPaths masks /bin/ls
	"tmp":                                 {typ: tar.TypeDir, mode: 0o1777},
	"root":                                {typ: tar.TypeDir, mode: 0o700},
	"etc/passwd":                          {typ: tar.TypeReg, mode: 0o644, contains: "root:x:0:0:"},
	"etc/group":                           {typ: tar.TypeReg, mode: 0o644, contains: "root:x:0:"},
	"var/run":                             {typ: tar.TypeDir, mode: 0o755},
}

// critestCommands are the programs critest runs in busybox-based
// containers, by name, through PATH.
var critestCommands = []string{
	"sh", "top", "sleep", "echo", "id", "ls", "cat", "ping", "brctl", "netstat", "hostname",
	"pidof", "pgrep", "ipcs", "dd", "mount", "touch", "grep", "mkdir", "chmod", "rm", "true",
}

var pathDirs = []string{"usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin"}

// fsEntry is one file of a flattened image.
type fsEntry struct {
	hdr  tar.Header
	data []byte // regular files up to 64 KiB
}

// layerCache reads each layer once: most images share the busybox layer.
type layerCache map[v1.Hash]map[string]fsEntry

func (c layerCache) files(t *testing.T, l v1.Layer) map[string]fsEntry {
	t.Helper()
	digest, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if files, ok := c[digest]; ok {
		return files
	}
	mt, err := l.MediaType()
	if err != nil || mt != types.OCILayer {
		t.Fatalf("layer %s: media type %s, %v; want %s", digest, mt, err, types.OCILayer)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]fsEntry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("layer %s: %v", digest, err)
		}
		e := fsEntry{hdr: *h}
		if h.Typeflag == tar.TypeReg && h.Size <= 64<<10 {
			if e.data, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
		if !h.ModTime.Equal(epoch) || h.Uname != "" || h.Gname != "" {
			t.Errorf("layer %s: %s: mtime %v, owner %q:%q; want %v and no names", digest, h.Name, h.ModTime, h.Uname, h.Gname, epoch)
		}
		files[strings.TrimSuffix(h.Name, "/")] = e
	}
	c[digest] = files
	return files
}

// flatten returns the file system of img (no whiteouts: the catalogue has none).
func (c layerCache) flatten(t *testing.T, img v1.Image) map[string]fsEntry {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	fs := map[string]fsEntry{}
	for _, l := range layers {
		for p, e := range c.files(t, l) {
			fs[p] = e
		}
	}
	return fs
}

func checkFile(t *testing.T, ref string, fs map[string]fsEntry, p string, w file) {
	t.Helper()
	e, ok := fs[p]
	if !ok {
		t.Errorf("%s: /%s is missing", ref, p)
		return
	}
	h := e.hdr
	if h.Typeflag != w.typ {
		t.Errorf("%s: /%s has type %q, want %q", ref, p, h.Typeflag, w.typ)
	}
	if w.typ == tar.TypeLink && h.Mode != 0o755 {
		t.Errorf("%s: hard link /%s has mode %#o, want that of its target, 0755", ref, p, h.Mode)
	}
	if w.typ != tar.TypeLink && h.Mode != w.mode {
		t.Errorf("%s: /%s has mode %#o, want %#o", ref, p, h.Mode, w.mode)
	}
	if h.Uid != w.uid || h.Gid != w.gid {
		t.Errorf("%s: /%s is owned by %d:%d, want %d:%d", ref, p, h.Uid, h.Gid, w.uid, w.gid)
	}
	if w.linkTo != "" && h.Linkname != w.linkTo {
		t.Errorf("%s: /%s links to %q, want %q", ref, p, h.Linkname, w.linkTo)
	}
	if w.contains != "" && !bytes.Contains(e.data, []byte(w.contains)) {
		t.Errorf("%s: /%s does not contain %q:\n%s", ref, p, w.contains, e.data)
	}
}

// lookPath finds command in the PATH directories of fs and returns the path
// of the file it runs, following hard links.
func lookPath(fs map[string]fsEntry, command string) (string, bool) {
	for _, dir := range pathDirs {
		p := path.Join(dir, command)
		if e, ok := fs[p]; ok {
			if e.hdr.Typeflag == tar.TypeLink {
				return e.hdr.Linkname, true
			}
			return p, e.hdr.Typeflag == tar.TypeReg && e.hdr.Mode&0o111 != 0
		}
	}
	return "", false
}

func TestServeEveryImage(t *testing.T) {
	images := catalogue(t)
	srv, err := Start("127.0.0.1:0", images)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", srv.Addr())
	}
	if got, want := MirrorPrefix(srv.Addr(), "registry.k8s.io"), srv.Addr()+"/registry.k8s.io"; got != want {
		t.Errorf("MirrorPrefix = %q, want %q", got, want)
	}

	if len(images) != len(wants) {
		t.Errorf("the catalogue has %d images, want %d", len(images), len(wants))
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	defer transport.CloseIdleConnections()
	layers := layerCache{}
	seen := map[v1.Hash]string{}
	for i, img := range images {
		if i >= len(wants) || !slices.Equal(img.Refs, wants[i].refs) {
			t.Errorf("catalogue image %d has references %v, want %v", i, img.Refs, wants[min(i, len(wants)-1)].refs)
			continue
		}
		if img.Why == "" {
			t.Errorf("%s: no Why", img.Refs[0])
		}
		digest, err := img.Image.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[digest]; ok {
			t.Errorf("%s and %s are the same image %s; critest needs them apart", img.Refs[0], other, digest)
		}
		seen[digest] = img.Refs[0]

		w := wants[i].want
		for _, upstream := range img.Refs {
			ref, err := name.ParseReference(srv.Ref(upstream), name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			pulled, err := remote.Image(ref, remote.WithTransport(transport))
			if err != nil {
				t.Errorf("pulling %s: %v", ref, err)
				continue
			}
			if got, err := pulled.Digest(); err != nil || got != digest {
				t.Errorf("%s: pulled digest %s (%v), want %s", ref, got, err, digest)
			}
			if mt, err := pulled.MediaType(); err != nil || mt != types.OCIManifestSchema1 {
				t.Errorf("%s: manifest media type %s (%v), want %s", ref, mt, err, types.OCIManifestSchema1)
			}
			checkConfig(t, upstream, pulled, w)
		}

		// The file system, from the layers the registry serves.
		ref, _ := name.ParseReference(srv.Ref(img.Refs[0]), name.Insecure)
		pulled, err := remote.Image(ref, remote.WithTransport(transport))
		if err != nil {
			t.Fatal(err)
		}
		fs := layers.flatten(t, pulled)
		for p, f := range w.files {
			checkFile(t, img.Refs[0], fs, p, f)
		}
		for _, p := range w.absent {
			if _, ok := fs[p]; ok {
				t.Errorf("%s: /%s should not be there", img.Refs[0], p)
			}
		}
		if w.scratch {
			continue
		}
		for p, f := range busyboxFS {
			if _, ok := w.files[p]; !ok {
				checkFile(t, img.Refs[0], fs, p, f)
			}
		}
		for _, command := range critestCommands {
			if target, ok := lookPath(fs, command); !ok {
				t.Errorf("%s: %s is not on PATH", img.Refs[0], command)
			} else if target != "bin/busybox" && target != "usr/bin/pgrep" {
				t.Errorf("%s: %s runs %s, want busybox or testbin", img.Refs[0], command, target)
			}
		}
		passwd := string(fs["etc/passwd"].data)
		for _, user := range []string{"root:x:0:0:", "nobody:x:65534:65534:", "www-data:x:33:33:"} {
			if !strings.Contains(passwd, "\n"+user) && !strings.HasPrefix(passwd, user) {
				t.Errorf("%s: /etc/passwd lacks %q", img.Refs[0], user)
			}
		}
		if !strings.Contains(string(fs["etc/group"].data), "\nwww-data:x:33:\n") {
			t.Errorf("%s: /etc/group lacks www-data", img.Refs[0])
		}
	}
	for _, w := range wants[len(images):] {
		t.Errorf("the catalogue lacks %v", w.refs)
	}

	// Nobody can change what critest pulls.
	req, err := http.NewRequest(http.MethodDelete, "http://"+srv.Addr()+"/v2/registry.k8s.io/pause/manifests/3.9", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE of a manifest: status %d, want %d", resp.StatusCode, http.StatusMethodNotAllowed)
	}
}

func checkConfig(t *testing.T, ref string, img v1.Image, w want) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Errorf("%s: config: %v", ref, err)
		return
	}
	c := cf.Config
	if cf.Architecture != "amd64" || cf.OS != "linux" {
		t.Errorf("%s: platform %s/%s, want linux/amd64", ref, cf.OS, cf.Architecture)
	}
	if !slices.Equal(c.Entrypoint, w.entrypoint) {
		t.Errorf("%s: Entrypoint %q, want %q", ref, c.Entrypoint, w.entrypoint)
	}
	if !slices.Equal(c.Cmd, w.cmd) {
		t.Errorf("%s: Cmd %q, want %q", ref, c.Cmd, w.cmd)
	}
	if c.User != w.user {
		t.Errorf("%s: User %q, want %q", ref, c.User, w.user)
	}
	if c.WorkingDir != w.workingDir {
		t.Errorf("%s: WorkingDir %q, want %q", ref, c.WorkingDir, w.workingDir)
	}
	if c.StopSignal != w.stopSignal {
		t.Errorf("%s: StopSignal %q, want %q", ref, c.StopSignal, w.stopSignal)
	}
	var ports []string
	for p := range c.ExposedPorts {
		ports = append(ports, p)
	}
	if !slices.Equal(ports, w.ports) {
		t.Errorf("%s: ExposedPorts %v, want %v", ref, ports, w.ports)
	}
	if !slices.ContainsFunc(c.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=/") }) {
		t.Errorf("%s: no PATH in Env %q", ref, c.Env)
	}
	if n := len(cf.RootFS.DiffIDs); n == 0 || len(cf.History) != n {
		t.Errorf("%s: %d layers, %d history entries", ref, n, len(cf.History))
	}
	if !cf.Created.Equal(epoch) {
		t.Errorf("%s: created %v, want %v", ref, cf.Created, epoch)
	}
}

func TestCatalogueIsReproducible(t *testing.T) {
	root := busyboxRoot(t)
	digests := func(images []Image) map[string]string {
		out := map[string]string{}
		for _, img := range images {
			d, err := img.Image.Digest()
			if err != nil {
				t.Fatal(err)
			}
			layers, err := img.Image.Layers()
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range layers {
				ld, err := l.Digest()
				if err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprintf("%s layer %d", img.Refs[0], i)] = ld.String()
			}
			for _, ref := range img.Refs {
				out[ref] = d.String()
			}
		}
		return out
	}
	// The catalogue the other tests use, then a second build.
	again, err := Catalogue(root)
	if err != nil {
		t.Fatal(err)
	}
	first, second := digests(catalogue(t)), digests(again)
	if len(first) == 0 {
		t.Fatal("empty catalogue")
	}
	for ref, d := range first {
		if second[ref] != d {
			t.Errorf("%s: %s, then %s", ref, d, second[ref])
		}
	}
	if len(first) != len(second) {
		t.Errorf("%d references, then %d", len(first), len(second))
	}

	// The busybox layer is the first of every image but pause.
	images := catalogue(t)
	base, err := images[0].Image.Layers()
	if err != nil {
		t.Fatal(err)
	}
	baseDigest, _ := base[0].Digest()
	for _, img := range images {
		layers, err := img.Image.Layers()
		if err != nil {
			t.Fatal(err)
		}
		d, _ := layers[0].Digest()
		isPause := strings.Contains(img.Refs[0], "/pause:")
		if (d == baseDigest) == isPause {
			t.Errorf("%s: first layer %s; busybox layer is %s", img.Refs[0], d, baseDigest)
		}
	}
}
