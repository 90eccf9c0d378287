package registry

import (
	"archive/tar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The node e2e images: every reference the suite's specs pull, each with
// the entrypoint, command and user the specs rely on.
func TestNodeE2ECatalogue(t *testing.T) {
	root := busyboxRoot(t)
	agnhost := t.TempDir()
	for name, content := range map[string]string{"agnhost": "#!/bin/sh\necho fake agnhost\n", "localhost.crt": "crt", "localhost.key": "key"} {
		if err := os.WriteFile(filepath.Join(agnhost, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	images, err := NodeE2ECatalogue(root, agnhost)
	if err != nil {
		t.Fatal(err)
	}
	wants := map[string]struct {
		entrypoint, cmd []string
		user, stop      string
		files           []string
	}{
		e2eImages + "busybox:1.37.0-2":        {cmd: []string{"sh"}, files: []string{"bin/busybox", "bin/top", "bin/pidof", "bin/sleep"}},
		e2eImages + "agnhost:2.66.1":          {entrypoint: []string{"/agnhost"}, cmd: []string{"pause"}, files: []string{"agnhost", "agnhost-2", "uploads", "bin/sh", "localhost.crt", "localhost.key", "usr/bin/curl", "usr/bin/nc", "bin/bash", "lib/x86_64-linux-gnu/libbsd.so.0", "lib/x86_64-linux-gnu/libtinfo.so.6"}},
		e2eImages + "agnhost:2.55":            {entrypoint: []string{"/agnhost"}, cmd: []string{"pause"}, files: []string{"agnhost"}},
		e2eImages + "kitten:1.8":              {entrypoint: []string{"/agnhost"}, cmd: []string{"test-webserver"}, files: []string{"kitten.jpg", "data.json"}},
		e2eImages + "nautilus:1.8":            {entrypoint: []string{"/agnhost"}, cmd: []string{"test-webserver"}, files: []string{"nautilus.jpg", "data.json"}},
		e2eImages + "nginx:1.27.0-2":          {cmd: []string{"nginx", "-g", "daemon off;"}, stop: "SIGQUIT", files: []string{"usr/sbin/nginx"}},
		e2eImages + "nginx:1.28.0-2":          {cmd: []string{"nginx", "-g", "daemon off;"}, stop: "SIGQUIT", files: []string{"usr/sbin/nginx"}},
		e2eImages + "nonewprivs:1.4":          {cmd: []string{"nnp"}, files: []string{"usr/local/bin/nnp"}},
		e2eImages + "nonroot:1.5":             {cmd: []string{"sh"}, user: "1234"},
		e2eImages + "glibc-dns-testing:2.1.1": {cmd: []string{"sh"}, files: []string{"bin/hostname", "bin/top"}},
		"registry.k8s.io/pause:3.10.2":        {entrypoint: []string{"/pause"}, user: "65535:65535", files: []string{"pause"}},
	}
	layers := layerCache{}
	seen := map[string]bool{}
	for _, img := range images {
		for _, ref := range img.Refs {
			w, ok := wants[ref]
			if !ok {
				t.Errorf("unexpected image %s", ref)
				continue
			}
			seen[ref] = true
			cf, err := img.Image.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			c := cf.Config
			if !slices.Equal(c.Entrypoint, w.entrypoint) || !slices.Equal(c.Cmd, w.cmd) || c.User != w.user || c.StopSignal != w.stop {
				t.Errorf("%s: entrypoint %q cmd %q user %q stop %q; want %q %q %q %q",
					ref, c.Entrypoint, c.Cmd, c.User, c.StopSignal, w.entrypoint, w.cmd, w.user, w.stop)
			}
			fs := layers.flatten(t, img.Image)
			for _, f := range w.files {
				if _, ok := fs[f]; !ok {
					t.Errorf("%s: no /%s", ref, f)
				}
			}
		}
	}
	for ref := range wants {
		if !seen[ref] {
			t.Errorf("the node e2e catalogue lacks %s", ref)
		}
	}
	// Every busybox-based image has the applets in /bin and testbin's.
	for _, img := range images {
		if strings.Contains(img.Refs[0], "/pause:") || strings.Contains(img.Refs[0], "/nginx:") || strings.Contains(img.Refs[0], "/nonewprivs:") {
			continue
		}
		fs := layers.flatten(t, img.Image)
		if top := fs["bin/top"]; top.hdr.Typeflag != tar.TypeSymlink || top.hdr.Linkname != "busybox" {
			t.Errorf("%s: /bin/top is %+v, want a link to busybox", img.Refs[0], top.hdr)
		}
		if sh := fs["bin/sh"]; sh.hdr.Typeflag != tar.TypeLink || sh.hdr.Linkname != "bin/busybox" {
			t.Errorf("%s: /bin/sh is %+v, want busybox's ash", img.Refs[0], sh.hdr)
		}
		if fs["usr/bin/nmeter"].hdr.Typeflag != tar.TypeReg || fs["bin/sysctl"].hdr.Typeflag != tar.TypeReg {
			t.Errorf("%s: no nmeter or sysctl", img.Refs[0])
		}
	}
	agnhostFS := layers.flatten(t, images[1].Image)
	if string(agnhostFS["agnhost"].data) != "#!/bin/sh\necho fake agnhost\n" {
		t.Errorf("/agnhost is not the binary given: %q", agnhostFS["agnhost"].data)
	}
	if g := string(agnhostFS["etc/group"].data); !slices.Contains(strings.Split(g, "\n"), "group-defined-in-image:x:50000:user-defined-in-image") {
		t.Errorf("agnhost /etc/group lacks group-defined-in-image: %q", g)
	}
}
