package registry

import (
	"archive/tar"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Hostile images: what a registry or an image author could send berth to
// make it hang, read the host's files or use unbounded memory. berth's
// integration tests pull them and check each is refused cleanly.
const (
	FIFOPasswdImage  = berthTest + "fifo-passwd:1"
	DeviceGroupImage = berthTest + "device-group:1"
	EscapingPasswd   = berthTest + "escaping-passwd:1"
)

// Images past berth's bounds are served under a host of their own by a
// registry of their own (Oversized): an image of 501 layers takes seconds
// to serve, too long for every test's registry.
const (
	OversizedHost      = "oversized.berth.test"
	TooManyLayersImage = OversizedHost + "/too-many-layers:1"
	HugeConfigImage    = OversizedHost + "/huge-config:1"
)

// Bounds berth enforces on what it pulls (image/pull.go); the hostile
// images go just past them.
const (
	berthMaxLayers     = 500
	berthMaxConfigSize = 4 << 20
)

// Hostile builds the images with hostile files, on the same busybox layer
// as Catalogue (busyboxRoot likewise).
func Hostile(busyboxRoot string) ([]Image, error) {
	return build(busyboxRoot, (*builder).addHostile)
}

// Oversized builds the images past berth's bounds, under OversizedHost.
func Oversized(busyboxRoot string) ([]Image, error) {
	return build(busyboxRoot, (*builder).addOversized)
}

func build(busyboxRoot string, add func(*builder)) ([]Image, error) {
	b, err := newBuilder(busyboxRoot)
	if err != nil {
		return nil, err
	}
	add(b)
	if b.err != nil {
		return nil, b.err
	}
	return b.images, nil
}

func (b *builder) addHostile() {
	// USER by name: the user lookup must read /etc/passwd, which would
	// block forever on a FIFO nobody writes.
	b.add([]string{FIFOPasswdImage},
		"hostile: /etc/passwd is a FIFO, USER www-data (CreateContainer must fail, not hang)",
		b.busybox(func(c *v1.Config) { c.User = "www-data" }),
		b.layer("mkfifo /etc/passwd", func(t tree) {
			t.add(&entry{Header: tar.Header{Typeflag: tar.TypeFifo, Name: "etc/passwd", Mode: 0o644}})
		}))
	// A group by name: /etc/group must be read, and it is the host's
	// /dev/zero, endless if read.
	b.add([]string{DeviceGroupImage},
		"hostile: /etc/group is the character device 1:5 (/dev/zero), USER 0:www-data",
		b.busybox(func(c *v1.Config) { c.User = "0:www-data" }),
		b.layer("mknod /etc/group c 1 5", func(t tree) {
			t.add(&entry{Header: tar.Header{Typeflag: tar.TypeChar, Name: "etc/group", Mode: 0o644, Devmajor: 1, Devminor: 5}})
		}))
	// Followed on the host, the link is the host's /etc/passwd, where
	// www-data is uid 33; in the image it leads nowhere.
	b.add([]string{EscapingPasswd},
		"hostile: /etc/passwd -> /proc/self/root/etc/passwd (the host's, if followed outside the rootfs), USER www-data",
		b.busybox(func(c *v1.Config) { c.User = "www-data" }),
		b.layer("ln -sf /proc/self/root/etc/passwd /etc/passwd", func(t tree) {
			t.symlink("etc/passwd", "/proc/self/root/etc/passwd")
		}))
}

func (b *builder) addOversized() {
	// One small layer, listed again and again: a manifest may repeat a
	// layer, and one blob keeps the image cheap to serve.
	filler := b.layer("touch /filler", func(t tree) { t.file("filler", 0o644, nil) })
	layers := make([]step, berthMaxLayers) // with busybox's, one too many
	for i := range layers {
		layers[i] = filler
	}
	b.add([]string{TooManyLayersImage},
		fmt.Sprintf("hostile: %d layers, one more than berth pulls", berthMaxLayers+1),
		b.busybox(nil), layers...)

	huge := strings.Repeat("x", berthMaxConfigSize)
	b.add([]string{HugeConfigImage},
		"hostile: an image config of more than 4 MiB (one huge label)",
		b.busybox(func(c *v1.Config) { c.Labels = map[string]string{"padding": huge} }))
}
