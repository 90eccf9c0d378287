package registry

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// defaultBusyboxRoot is where hack/install-deps.sh unpacks Debian's
// dynamically linked busybox with the shared libraries it needs.
const defaultBusyboxRoot = "/usr/local/share/berth-test/busybox"

// DefaultBusyboxRoot returns $BERTH_BUSYBOX_ROOT, or
// /usr/local/share/berth-test/busybox when it is unset.
func DefaultBusyboxRoot() string {
	if dir := os.Getenv("BERTH_BUSYBOX_ROOT"); dir != "" {
		return dir
	}
	return defaultBusyboxRoot
}

// busyboxPath is the PATH of every busybox-based image, as in Docker's.
const busyboxPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// etcPasswd and etcGroup are those of Docker's busybox image: root, nobody
// (RunAsUsername "nobody"), www-data with uid 33 (USER www-data images).
const (
	etcPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`
	etcGroup = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`
	etcNsswitch = `passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
`
)

// busyboxTree is the root file system shared by every image but pause:
// busybox at /bin/busybox with its loader and libraries where they are under
// root, a hard link for each applet (`busybox --list-full`), the testbin
// helper as /usr/bin/pgrep and /usr/bin/ipcs, and the usual directories and
// /etc files.
//
// Applets are hard links, as in Docker's busybox image, not symbolic links:
// the MaskedPaths spec masks /bin/ls, and masking a symbolic link would mask
// /bin/busybox, /bin/sh included.
func busyboxTree(root string, helper []byte) (tree, error) {
	busybox := filepath.Join(root, "bin", "busybox")
	if fi, err := os.Stat(busybox); err != nil {
		return nil, fmt.Errorf("busybox root %s: %w (hack/install-deps.sh unpacks it)", root, err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("busybox root %s: bin/busybox is not a regular file", root)
	}

	t := tree{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			t.dir(rel, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			t.symlink(rel, target)
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			mode := int64(0o644)
			if fi.Mode().Perm()&0o111 != 0 {
				mode = 0o755
			}
			t.file(rel, mode, data)
		default:
			return fmt.Errorf("%s: unsupported file type %v", path, d.Type())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	applets, err := busyboxApplets(root)
	if err != nil {
		return nil, err
	}
	for _, applet := range applets {
		if _, ok := t[applet]; !ok {
			t.hardlink(applet, "bin/busybox")
		}
	}

	for _, dir := range []string{"dev", "etc", "home", "proc", "sys", "usr/local/bin", "var/run", "var/spool/mail", "var/www"} {
		t.dir(dir, 0o755)
	}
	t.dir("root", 0o700)
	t.dir("tmp", 0o1777)
	t.dir("var/tmp", 0o1777)
	t.file("etc/passwd", 0o644, []byte(etcPasswd))
	t.file("etc/group", 0o644, []byte(etcGroup))
	t.file("etc/nsswitch.conf", 0o644, []byte(etcNsswitch))
	t.file("usr/bin/pgrep", 0o755, helper)
	t.hardlink("usr/bin/ipcs", "usr/bin/pgrep")
	return t, nil
}

// busyboxApplets runs `busybox --list-full` from root, through the loader
// shipped with it when there is one, and returns the applet paths it lists
// (relative, like "bin/sh"), leaving out linuxrc.
func busyboxApplets(root string) ([]string, error) {
	busybox := filepath.Join(root, "bin", "busybox")
	cmd := exec.Command(busybox, "--list-full")
	loader := filepath.Join(root, "lib64", "ld-linux-x86-64.so.2")
	if _, err := os.Stat(loader); err == nil {
		libs := filepath.Join(root, "lib", "x86_64-linux-gnu")
		cmd = exec.Command(loader, "--library-path", libs, busybox, "--list-full")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %v: %s", busybox, err, stderr.Bytes())
	}
	var applets []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.Trim(strings.TrimSpace(line), "/")
		if line == "" || line == "linuxrc" || line == "bin/busybox" {
			continue
		}
		applets = append(applets, line)
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("%s --list-full listed no applets", busybox)
	}
	return applets, nil
}
