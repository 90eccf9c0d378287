package registry

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// NodeE2ECatalogue builds the images Kubernetes' node e2e suite (v1.37,
// test/utils/image/manifest.go) pulls for the specs berth runs, from the
// same busybox layer as Catalogue and from agnhost, the suite's own test
// program built from the Kubernetes module (test/e2enode/build.sh). They
// stand in for the upstream images, which are Alpine or Debian based: what
// the specs use of them is the program they run and the files they hold.
//
// agnhostDir holds the agnhost binary and porter's localhost.crt and
// localhost.key, which netexec serves HTTPS with.
func NodeE2ECatalogue(busyboxRoot, agnhostDir string) ([]Image, error) {
	if busyboxRoot == "" {
		busyboxRoot = DefaultBusyboxRoot()
	}
	b, err := newBuilder(busyboxRoot)
	if err != nil {
		return nil, err
	}
	agnhostFiles := map[string][]byte{}
	for _, name := range []string{"agnhost", "localhost.crt", "localhost.key"} {
		if agnhostFiles[name], err = os.ReadFile(filepath.Join(agnhostDir, name)); err != nil {
			return nil, fmt.Errorf("agnhost image content: %w", err)
		}
	}
	applets, err := busyboxApplets(busyboxRoot)
	if err != nil {
		return nil, err
	}
	sh, err := nodeE2ETools(b, applets)
	if err != nil {
		return nil, err
	}

	b.add([]string{e2eImages + "busybox:1.37.0-2"},
		"the suite's default container image (sh, sleep, cat, ls, id, ...)",
		b.busybox(nil), sh)

	// agnhost's image: Alpine with agnhost as entrypoint, a user and group
	// defined in the image (the SupplementalGroupsPolicy specs), /uploads.
	agnhostLayer := b.layer("ADD agnhost localhost.crt localhost.key /, ln -s agnhost agnhost-2, mkdir /uploads, adduser user-defined-in-image", func(t tree) {
		t.file("agnhost", 0o755, agnhostFiles["agnhost"])
		t.file("localhost.crt", 0o644, agnhostFiles["localhost.crt"])
		t.file("localhost.key", 0o644, agnhostFiles["localhost.key"])
		t.symlink("agnhost-2", "agnhost")
		t.dir("uploads", 0o755)
		t.file("etc/passwd", 0o644, []byte(etcPasswd+"user-defined-in-image:x:1000:1000:Linux User,,,:/home/user-defined-in-image:/bin/sh\n"))
		t.file("etc/group", 0o644, []byte(etcGroup+"user-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n"))
		t.dir("home/user-defined-in-image", 0o755)
		t["home/user-defined-in-image"].Uid, t["home/user-defined-in-image"].Gid = 1000, 1000
	})
	// The tools agnhost's Alpine image has that specs run from it (the
	// probe specs run /bin/bash, the networking ones curl and nc -u).
	tools, err := hostBinaries(b, "bash, curl and netcat-openbsd's nc, with their libraries", map[string]string{
		"bin/bash":     "/bin/bash",
		"usr/bin/curl": "/usr/bin/curl",
		"usr/bin/nc":   "/usr/bin/nc.openbsd",
	})
	if err != nil {
		return nil, err
	}
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
		agnhostConfig("pause"), sh, tools, agnhostLayer)
	for _, name := range []string{"kitten", "nautilus"} {
		file := name + ".jpg"
		b.add([]string{e2eImages + name + ":1.8"},
			"agnhost test-webserver with /"+file+": the image pull and update specs",
			v1.Config{Env: []string{busyboxPath}, Entrypoint: []string{"/agnhost"}, Cmd: []string{"test-webserver"}},
			sh, tools, agnhostLayer, b.layer("COPY "+file+" data.json", func(t tree) {
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

	// Debian with glibc's resolver upstream: the hostname specs run
	// `hostname -f`, which must resolve the pod's FQDN through /etc/hosts.
	glibcHostname, err := hostBinaries(b, "Debian's hostname (glibc)", map[string]string{"bin/hostname": "/bin/hostname"})
	if err != nil {
		return nil, err
	}
	b.add([]string{e2eImages + "glibc-dns-testing:2.1.1"},
		"the hostname and FQDN specs: sh, and a glibc hostname -f",
		b.busybox(nil), sh, glibcHostname)

	b.addPauseVersions([]pauseVersion{{"3.10.2", []string{"registry.k8s.io/pause:3.10.2"}}})

	if b.err != nil {
		return nil, b.err
	}
	return b.images, nil
}

// nodeE2ETools is the layer that makes the busybox base look like the
// upstream images to the suite: every busybox applet in /bin as well, where
// Docker's busybox image has them all (the suite runs /bin/top), and testbin
// for the applets Debian's busybox lacks.
//
// Its sh stays busybox's ash, as upstream's: specs match ash's error
// messages word for word. Debian's ash (1.35, and 1.37 alike) drops
// environment entries whose names are not shell identifiers ("data-1"),
// which `sh -c env` then cannot show: test/e2enode/skip.txt lists the two
// specs that read such a variable back that way.
func nodeE2ETools(b *builder, applets []string) (step, error) {
	return b.layer("every applet in /bin, testbin as nmeter and sysctl", func(t tree) {
		for _, applet := range applets {
			if name := path.Base(applet); applet != "bin/"+name {
				t.symlink("bin/"+name, "busybox")
			}
		}
		// The container lifecycle specs time their log lines with
		// busybox's nmeter, which Debian's busybox lacks.
		t.file("usr/bin/nmeter", 0o755, b.helper)
		// The sysctl specs run /bin/sysctl, also missing from it.
		t.file("bin/sysctl", 0o755, b.helper)
	}), nil
}

// hostBinaries is a layer of host programs (image path: host path) with
// the shared libraries ldd finds for them, at the paths ldd names. The
// host is Debian 12, like the busybox layer's libc.
func hostBinaries(b *builder, createdBy string, binaries map[string]string) (step, error) {
	files := map[string][]byte{}
	for dst, src := range binaries {
		data, err := os.ReadFile(src)
		if err != nil {
			return step{}, fmt.Errorf("%s (hack/install-deps.sh installs it): %w", src, err)
		}
		files[dst] = data
		out, err := exec.Command("ldd", src).Output()
		if err != nil {
			return step{}, fmt.Errorf("ldd %s: %w", src, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			// "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or
			// "/lib64/ld-linux-x86-64.so.2 (0x...)"; vdso has no path.
			fields := strings.Fields(line)
			var lib string
			switch {
			case len(fields) >= 3 && fields[1] == "=>" && strings.HasPrefix(fields[2], "/"):
				lib = fields[2]
			case len(fields) >= 1 && strings.HasPrefix(fields[0], "/"):
				lib = fields[0]
			default:
				continue
			}
			real, err := filepath.EvalSymlinks(lib)
			if err != nil {
				return step{}, fmt.Errorf("%s needs %s: %w", src, lib, err)
			}
			if files[strings.TrimPrefix(lib, "/")], err = os.ReadFile(real); err != nil {
				return step{}, err
			}
		}
	}
	return b.layer(createdBy, func(t tree) {
		for name, data := range files {
			t.file(name, 0o755, data)
		}
	}), nil
}
