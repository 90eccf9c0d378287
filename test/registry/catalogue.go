// Package registry is berth's offline stand-in for the registries critest
// v1.36.0 pulls from: it builds every image critest uses (see
// /work/shared/reference/critest-images.md) from Debian's busybox and a small
// helper program, reproducibly, and serves them over plain HTTP with
// go-containerregistry's registry, each at "<upstream-host>/<path>", so that
// a mirror of registry.k8s.io is ADDR/registry.k8s.io and so on.
package registry

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image is one image of the catalogue, with every reference it is served under.
type Image struct {
	Refs  []string // upstream references, e.g. "registry.k8s.io/e2e-test-images/busybox:1.29-2"
	Image v1.Image
	Why   string // one line: what critest uses it for
}

const (
	e2eImages = "registry.k8s.io/e2e-test-images/"
	criTools  = "gcr.io/k8s-staging-cri-tools/"
	ecrDocker = "public.ecr.aws/docker/library/"
	// berthTest names images only berth's own tests pull.
	berthTest = "registry.k8s.io/berth-test/"
)

// Catalogue builds every image critest v1.36.0 pulls. busyboxRoot holds
// Debian's busybox as hack/install-deps.sh unpacks it; "" means
// DefaultBusyboxRoot(). The same inputs always give the same digests.
//
// One upstream image cannot be had: critest pins
// gcr.io/k8s-staging-cri-tools/test-image-digest by digest
// (sha256:9700f9a2...), which no rebuilt image matches; the catalogue serves
// test-image-digest:latest, so that one spec fails.
func Catalogue(busyboxRoot string) ([]Image, error) {
	b, err := newBuilder(busyboxRoot)
	if err != nil {
		return nil, err
	}

	b.add([]string{e2eImages + "busybox:1.29-2"},
		"default test container image: sh, top, sleep, echo, id, ls, cat, ping, brctl, netstat, hostname, pidof, pgrep, ipcs, ...",
		b.busybox(nil))
	b.add([]string{berthTest + "stopsignal:1"},
		"berth's integration tests: busybox with STOPSIGNAL SIGUSR2 (StopContainer must send it)",
		b.busybox(func(c *v1.Config) { c.StopSignal = "SIGUSR2" }))

	b.addNginx()
	b.addHttpd()

	b.add([]string{e2eImages + "nonewprivs:1.3"},
		"NoNewPrivs specs: setuid-root /usr/local/bin/nnp prints 'Effective uid: N'",
		b.busybox(func(c *v1.Config) { c.Cmd = []string{"nnp"} }),
		b.layer("setuid-root /usr/local/bin/nnp", func(t tree) {
			t.file("usr/local/bin/nnp", 0o4755, b.helper)
		}))

	for _, u := range []struct{ image, user string }{
		{"test-image-user-uid", "1002"},
		{"test-image-user-username", "www-data"},
		{"test-image-user-uid-group", "1003:1004"},
		{"test-image-user-username-group", "www-data:1004"},
	} {
		user := u.user
		b.add([]string{criTools + u.image + ":latest"},
			"ImageStatus uid/username spec: image config USER "+user,
			b.busybox(func(c *v1.Config) { c.User = user }))
	}

	b.add([]string{criTools + "test-image-predefined-group:latest"},
		"SupplementalGroupsPolicy specs: USER 1000 (default-user), member of group-defined-in-image (gid 50000) in /etc/group",
		b.busybox(func(c *v1.Config) { c.User = "1000" }),
		b.layer("adduser -u 1000 -D default-user && addgroup -g 50000 group-defined-in-image && addgroup default-user group-defined-in-image", func(t tree) {
			t.file("etc/passwd", 0o644, []byte(etcPasswd+"default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n"))
			t.file("etc/group", 0o644, []byte(etcGroup+"default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n"))
			t.dir("home/default-user", 0o755)
			t["home/default-user"].Uid, t["home/default-user"].Gid = 1000, 1000
		}))

	for _, m := range []struct {
		refs   []string
		marker string
	}{
		{[]string{criTools + "test-image-latest:latest"}, "test-image-latest"},
		{[]string{criTools + "test-image-tag:test"}, "test"},
		{[]string{criTools + "test-image-tag:all"}, "all"},
		{[]string{criTools + "test-image-1:latest"}, "test-image-1"},
		{[]string{criTools + "test-image-2:latest"}, "test-image-2"},
		{[]string{criTools + "test-image-3:latest"}, "test-image-3"},
		{[]string{criTools + "test-image-tags:1", criTools + "test-image-tags:2", criTools + "test-image-tags:3"}, "same-image"},
		{[]string{criTools + "test-image-digest:latest"}, "test-image-digest"},
	} {
		why := "Image Manager specs: busybox + empty marker file /" + m.marker
		if m.marker == "test-image-digest" {
			why += " (critest pins test-image-digest@sha256:9700f9a2..., which cannot be rebuilt: that spec fails)"
		}
		marker := m.marker
		b.add(m.refs, why, b.busybox(nil), b.layer("ADD "+marker+" "+marker, func(t tree) {
			t.file(marker, 0o644, nil)
		}))
	}

	b.addPause()

	for _, tag := range []string{"1.35.0-glibc", "1-uclibc", "1", "1-glibc", "1-musl"} {
		version := tag
		b.add([]string{ecrDocker + "busybox:" + tag},
			"benchmark image-listing/pulling image (critest -benchmark)",
			b.busybox(func(c *v1.Config) { c.Labels = map[string]string{"org.opencontainers.image.version": version} }))
	}

	if b.err != nil {
		return nil, b.err
	}
	return b.images, nil
}

// newBuilder starts a catalogue on the busybox layer built from
// busyboxRoot ("" means DefaultBusyboxRoot()).
func newBuilder(busyboxRoot string) (*builder, error) {
	if busyboxRoot == "" {
		busyboxRoot = DefaultBusyboxRoot()
	}
	helper, err := Testbin()
	if err != nil {
		return nil, err
	}
	b := &builder{helper: helper}
	baseTree, err := busyboxTree(busyboxRoot, helper)
	if err != nil {
		return nil, err
	}
	if b.base.layer, err = baseTree.layer(); err != nil {
		return nil, err
	}
	b.base.createdBy = "busybox (Debian, dynamically linked) with its libraries, applet hard links, testbin as pgrep and ipcs, /etc"
	return b, nil
}

// builder collects the images of the catalogue and the first error.
type builder struct {
	helper []byte // the testbin program
	base   step   // the busybox layer
	nginx  step   // the layer of the nginx images, once built
	images []Image
	err    error
}

// busybox returns the configuration of Docker's busybox image (Cmd sh),
// changed by edit when it is not nil.
func (b *builder) busybox(edit func(*v1.Config)) v1.Config {
	c := v1.Config{Env: []string{busyboxPath}, Cmd: []string{"sh"}}
	if edit != nil {
		edit(&c)
	}
	return c
}

// layer builds a layer from what fill puts in an empty tree.
func (b *builder) layer(createdBy string, fill func(tree)) step {
	t := tree{}
	fill(t)
	l, err := t.layer()
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("layer %q: %w", createdBy, err)
	}
	return step{layer: l, createdBy: createdBy}
}

// add appends the image made of the busybox layer, then layers, to the
// catalogue.
func (b *builder) add(refs []string, why string, cfg v1.Config, layers ...step) {
	b.addFrom(refs, why, cfg, append([]step{b.base}, layers...)...)
}

// addFrom appends the image made of layers alone to the catalogue, unless
// there was an error already.
func (b *builder) addFrom(refs []string, why string, cfg v1.Config, layers ...step) {
	if b.err != nil {
		return
	}
	img, err := newImage(cfg, layers...)
	if err != nil {
		b.err = fmt.Errorf("image %s: %w", refs[0], err)
		return
	}
	b.images = append(b.images, Image{Refs: refs, Image: img, Why: why})
}

const nginxDefaultConf = `server {
    listen       %d;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
}
`

const nginxIndex = `<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>berth test image: testbin serving as nginx.</p>
</body>
</html>
`

// addNginx adds the nginx web server images: e2e nginx:1.14-2 on port 80,
// and hostnet-nginx on port 12003 (it runs in the host network namespace).
func (b *builder) addNginx() {
	b.nginx = b.nginxLayer()
	nginx := func(version, stopSignal string) v1.Config {
		return v1.Config{
			Env:          []string{busyboxPath, "NGINX_VERSION=" + version},
			Cmd:          []string{"nginx", "-g", "daemon off;"},
			ExposedPorts: map[string]struct{}{"80/tcp": {}},
			StopSignal:   stopSignal,
		}
	}

	cfg := nginx("1.14.2", "SIGTERM")
	cfg.Labels = map[string]string{"image_version": "1.14-2"}
	b.add([]string{e2eImages + "nginx:1.14-2"},
		"web server for networking/streaming/port-forward/HostPID/PID-namespace specs: HTTP 200 on :80, /var/run/nginx.pid, PID 1 cmdline has 'master process', process named nginx",
		cfg, b.nginx)

	cfg = nginx("1.25.0", "SIGQUIT")
	cfg.Entrypoint = []string{"/docker-entrypoint.sh"}
	b.add([]string{criTools + "hostnet-nginx-amd64:latest"},
		"web server on the HOST network, port 12003 (streaming 'portforward in host network' spec)",
		cfg, b.nginx, b.layer("COPY default.conf /etc/nginx/conf.d/default.conf (listen 12003), /docker-entrypoint.sh", func(t tree) {
			t.file("etc/nginx/conf.d/default.conf", 0o644, fmt.Appendf(nil, nginxDefaultConf, 12003))
			t.file("docker-entrypoint.sh", 0o755, []byte("#!/bin/sh\n# nginx's entrypoint: hand over to the command.\nset -e\nexec \"$@\"\n"))
		}))
}

// nginxLayer is the layer of the nginx images: testbin as nginx on :80.
func (b *builder) nginxLayer() step {
	return b.layer("nginx: testbin as /usr/sbin/nginx, /etc/nginx, /usr/share/nginx/html", func(t tree) {
		t.file("usr/sbin/nginx", 0o755, b.helper)
		t.file("etc/nginx/conf.d/default.conf", 0o644, fmt.Appendf(nil, nginxDefaultConf, 80))
		t.file("usr/share/nginx/html/index.html", 0o644, []byte(nginxIndex))
		t.dir("var/log/nginx", 0o755)
		t.dir("var/cache/nginx", 0o755)
	})
}

// addHttpd adds the e2e httpd image.
func (b *builder) addHttpd() {
	const prefix = "/usr/local/apache2"
	cfg := v1.Config{
		Env: []string{
			"PATH=" + prefix + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"HTTPD_PREFIX=" + prefix,
			"HTTPD_VERSION=2.4.39",
		},
		Cmd:          []string{"httpd-foreground"},
		WorkingDir:   prefix,
		ExposedPorts: map[string]struct{}{"80/tcp": {}},
		Labels:       map[string]string{"image_version": "2.4.39-4"},
	}
	b.add([]string{e2eImages + "httpd:2.4.39-4"},
		"httpd for 'Multiple Containers' specs: HTTP 200 on :80, writes a line containing 'httpd' to its log, has echo",
		cfg, b.layer("httpd: testbin as "+prefix+"/bin/httpd, httpd-foreground, conf, htdocs", func(t tree) {
			t.file("usr/local/apache2/bin/httpd", 0o755, b.helper)
			t.file("usr/local/apache2/bin/httpd-foreground", 0o755, []byte(
				"#!/bin/sh\nset -e\n\n# Apache gets grumpy about PID files pre-existing\nrm -f "+prefix+"/logs/httpd.pid\n\nexec httpd -DFOREGROUND \"$@\"\n"))
			t.file("usr/local/apache2/conf/httpd.conf", 0o644, []byte(
				"ServerRoot \""+prefix+"\"\nListen 80\nDocumentRoot \""+prefix+"/htdocs\"\n"))
			t.file("usr/local/apache2/htdocs/index.html", 0o644, []byte("<html><body><h1>It works!</h1></body></html>\n"))
			t.dir("usr/local/apache2/logs", 0o755)
		}))
}

// addPause adds the pod infra images: /pause alone, run as 65535:65535, one
// image per version so that no two versions share an image ID (critest
// counts the tags of pause:3.9).
func (b *builder) addPause() {
	b.addPauseVersions([]pauseVersion{
		{"3.9", []string{"registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"}},
		{"3.10", []string{"registry.k8s.io/pause:3.10", "k8s.gcr.io/pause:3.10"}},
		{"3.10.1", []string{"registry.k8s.io/pause:3.10.1"}},
	})
}

// pauseVersion is one pause image version and the references it has.
type pauseVersion struct {
	version string
	refs    []string
}

func (b *builder) addPauseVersions(versions []pauseVersion) {
	pause := b.layer("ADD pause /pause", func(t tree) {
		t.file("pause", 0o755, b.helper)
	})
	for _, v := range versions {
		b.addFrom(v.refs,
			"pod sandbox (infra) image "+v.version+": static /pause, exits 0 on SIGINT/SIGTERM, reaps zombies",
			v1.Config{
				Env:        []string{busyboxPath},
				Entrypoint: []string{"/pause"},
				User:       "65535:65535",
				WorkingDir: "/",
				Labels:     map[string]string{"org.opencontainers.image.version": v.version},
			}, pause)
	}
}
