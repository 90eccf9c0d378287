package registry

import (
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// NodeE2ECatalogue builds the images Kubernetes' node e2e suite (v1.37,
// test/utils/image/manifest.go) pulls for the specs berth runs, from the
// same busybox layer as Catalogue and from agnhost, the suite's own test
// program built from the Kubernetes module (test/e2enode/build.sh). They
// stand in for the upstream images, which are Alpine or Debian based: what
// the specs use of them is the program they run and the files they hold.
//
// Their /bin/sh is Debian's bash from bashRoot ("" means DefaultBashRoot()):
// the specs read variables such as "data-1" back with `sh -c env`, and
// Debian's busybox 1.35 ash drops environment entries whose names are not
// shell identifiers, where the upstream images' busybox 1.37 ash keeps them.
func NodeE2ECatalogue(busyboxRoot, bashRoot, agnhostPath string) ([]Image, error) {
	b, err := newBuilder(busyboxRoot)
	if err != nil {
		return nil, err
	}
	agnhost, err := os.ReadFile(agnhostPath)
	if err != nil {
		return nil, fmt.Errorf("agnhost binary: %w", err)
	}
	if bashRoot == "" {
		bashRoot = DefaultBashRoot()
	}
	sh, err := bashShell(b, bashRoot)
	if err != nil {
		return nil, err
	}

	b.add([]string{e2eImages + "busybox:1.37.0-2"},
		"the suite's default container image (sh, sleep, cat, ls, id, ...)",
		b.busybox(nil), sh)

	// agnhost's image: Alpine with agnhost as entrypoint, a user and group
	// defined in the image (the SupplementalGroupsPolicy specs), /uploads.
	agnhostLayer := b.layer("ADD agnhost /agnhost, ln -s agnhost agnhost-2, mkdir /uploads, adduser user-defined-in-image", func(t tree) {
		t.file("agnhost", 0o755, agnhost)
		t.symlink("agnhost-2", "agnhost")
		t.dir("uploads", 0o755)
		t.file("etc/passwd", 0o644, []byte(etcPasswd+"user-defined-in-image:x:1000:1000:Linux User,,,:/home/user-defined-in-image:/bin/sh\n"))
		t.file("etc/group", 0o644, []byte(etcGroup+"user-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n"))
		t.dir("home/user-defined-in-image", 0o755)
		t["home/user-defined-in-image"].Uid, t["home/user-defined-in-image"].Gid = 1000, 1000
	})
	agnhostConfig := func(cmd string) v1.Config {
		return v1.Config{
			Env:          []string{busyboxPath},
			Entrypoint:   []string{"/agnhost"},
			Cmd:          []string{cmd},
			ExposedPorts: map[string]struct{}{"80/tcp": {}, "8080/tcp": {}, "8081/tcp": {}, "9376/tcp": {}, "5000/tcp": {}},
		}
	}
	b.add([]string{e2eImages + "agnhost:2.66.1", e2eImages + "agnhost:2.55"},
		"agnhost: the suite's test program (pause, netexec, serve-hostname, liveness, entrypoint-tester, ...)",
		agnhostConfig("pause"), sh, agnhostLayer)
	for _, name := range []string{"kitten", "nautilus"} {
		file := name + ".jpg"
		b.add([]string{e2eImages + name + ":1.8"},
			"agnhost test-webserver with /"+file+": the image pull and update specs",
			v1.Config{Env: []string{busyboxPath}, Entrypoint: []string{"/agnhost"}, Cmd: []string{"test-webserver"}},
			sh, agnhostLayer, b.layer("COPY "+file+" data.json", func(t tree) {
				t.file(file, 0o644, []byte(name+"\n"))
				t.file("data.json", 0o644, []byte(`{"image": "`+name+`"}`+"\n"))
			}))
	}

	nginx := b.nginxLayer()
	for _, version := range []string{"1.27.0-2", "1.28.0-2"} {
		b.add([]string{e2eImages + "nginx:" + version},
			"web server on :80 (nginx's image: entrypoint script, SIGQUIT to stop)",
			v1.Config{
				Env:          []string{busyboxPath, "NGINX_VERSION=" + version},
				Cmd:          []string{"nginx", "-g", "daemon off;"},
				ExposedPorts: map[string]struct{}{"80/tcp": {}},
				StopSignal:   "SIGQUIT",
			}, nginx)
	}

	b.add([]string{e2eImages + "nonewprivs:1.4"},
		"NoNewPrivs specs: setuid-root /usr/local/bin/nnp prints 'Effective uid: N'",
		b.busybox(func(c *v1.Config) { c.Cmd = []string{"nnp"} }),
		b.layer("setuid-root /usr/local/bin/nnp", func(t tree) {
			t.file("usr/local/bin/nnp", 0o4755, b.helper)
		}))
	b.add([]string{e2eImages + "nonroot:1.5"},
		"RunAsNonRoot specs: USER 1234",
		b.busybox(func(c *v1.Config) { c.User = "1234" }), sh)

	b.addPauseVersions([]pauseVersion{{"3.10.2", []string{"registry.k8s.io/pause:3.10.2"}}})

	if b.err != nil {
		return nil, b.err
	}
	return b.images, nil
}

// bashShell is the layer that makes Debian's bash the image's /bin/sh, with
// the library it needs beyond busybox's, and adds the busybox applets the
// suite uses that Debian's busybox lacks.
func bashShell(b *builder, root string) (step, error) {
	bash, err := os.ReadFile(filepath.Join(root, "bin", "bash"))
	if err != nil {
		return step{}, fmt.Errorf("bash root %s: %w (hack/install-deps.sh unpacks it)", root, err)
	}
	tinfo, err := os.ReadFile(filepath.Join(root, "lib", "x86_64-linux-gnu", "libtinfo.so.6"))
	if err != nil {
		return step{}, fmt.Errorf("bash root %s: %w (hack/install-deps.sh unpacks it)", root, err)
	}
	return b.layer("bash as /bin/sh (keeps environment entries that are not shell identifiers), testbin as nmeter", func(t tree) {
		t.file("bin/bash", 0o755, bash)
		t.file("lib/x86_64-linux-gnu/libtinfo.so.6", 0o644, tinfo)
		t.symlink("bin/sh", "bash")
		// The container lifecycle specs time their log lines with
		// busybox's nmeter, which Debian's busybox lacks.
		t.file("usr/bin/nmeter", 0o755, b.helper)
	}), nil
}
