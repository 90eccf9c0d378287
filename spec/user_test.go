package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestBuildSpecUser(t *testing.T) {
	tests := []struct {
		name      string
		noPasswd  bool // a rootfs without etc/passwd and etc/group
		imageUser string
		sc        func(*Security)
		uid, gid  uint32
		groups    []uint32 // additional gids, in order; nil: only the primary gid first is checked
		home      string
		envHome   string // HOME set by the config; "" for none
	}{
		{
			name: "image root by default",
			uid:  0, gid: 0, groups: []uint32{0, 10}, home: "/root",
		},
		{
			name:     "numeric RunAsUser without passwd",
			noPasswd: true,
			sc:       func(sc *Security) { sc.RunAsUser = ptr(int64(1234)) },
			uid:      1234, gid: 0, groups: []uint32{0}, home: "/",
		},
		{
			name: "numeric RunAsUser not in passwd",
			sc:   func(sc *Security) { sc.RunAsUser = ptr(int64(1234)) },
			uid:  1234, gid: 0, groups: []uint32{0}, home: "/",
		},
		{
			name: "numeric RunAsUser in passwd",
			sc:   func(sc *Security) { sc.RunAsUser = ptr(int64(1000)) },
			uid:  1000, gid: 1000, groups: []uint32{1000, 29, 44}, home: "/home/app",
		},
		{
			name: "RunAsUsername",
			sc:   func(sc *Security) { sc.RunAsUsername = "app" },
			uid:  1000, gid: 1000, groups: []uint32{1000, 29, 44}, home: "/home/app",
		},
		{
			name:      "RunAsUser overrides the image user",
			imageUser: "app",
			sc:        func(sc *Security) { sc.RunAsUser = ptr(int64(0)) },
			uid:       0, gid: 0, groups: []uint32{0, 10}, home: "/root",
		},
		{
			name:      "image user name",
			imageUser: "app",
			uid:       1000, gid: 1000, groups: []uint32{1000, 29, 44}, home: "/home/app",
		},
		{
			name:      "image user name:group",
			imageUser: "app:video",
			uid:       1000, gid: 44, groups: []uint32{44}, home: "/home/app",
		},
		{
			name:      "image user uid:gid",
			imageUser: "1000:29",
			uid:       1000, gid: 29, groups: []uint32{29}, home: "/home/app",
		},
		{
			name: "RunAsGroup",
			sc: func(sc *Security) {
				sc.RunAsUser = ptr(int64(1234))
				sc.RunAsGroup = ptr(int64(2000))
			},
			uid: 1234, gid: 2000, groups: []uint32{2000}, home: "/",
		},
		{
			// The group replaces the primary one; /etc/group memberships stay.
			name:      "RunAsGroup with RunAsUsername",
			imageUser: "app:video",
			sc: func(sc *Security) {
				sc.RunAsUsername = "app"
				sc.RunAsGroup = ptr(int64(29))
			},
			uid: 1000, gid: 29, groups: []uint32{29, 44}, home: "/home/app",
		},
		{
			name: "supplemental groups merged, de-duplicated, primary first",
			sc: func(sc *Security) {
				sc.RunAsUser = ptr(int64(1000))
				sc.SupplementalGroups = []int64{44, 5000, 1000, 5000}
			},
			uid: 1000, gid: 1000, groups: []uint32{1000, 29, 44, 5000}, home: "/home/app",
		},
		{
			name: "strict policy ignores /etc/group",
			sc: func(sc *Security) {
				sc.RunAsUser = ptr(int64(1000))
				sc.SupplementalGroups = []int64{5000}
				sc.StrictGroups = true
			},
			uid: 1000, gid: 1000, groups: []uint32{1000, 5000}, home: "/home/app",
		},
		{
			name:    "HOME from the config kept",
			sc:      func(sc *Security) { sc.RunAsUsername = "app" },
			envHome: "/data",
			uid:     1000, gid: 1000, groups: []uint32{1000, 29, 44}, home: "/data",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				if tt.noPasswd {
					in.Rootfs = newRootfs(t, "", "")
				}
				in.Image.User = tt.imageUser
				if tt.sc != nil {
					tt.sc(securityContext(in))
				}
				if tt.envHome != "" {
					in.Container.Env = env("HOME", tt.envHome)
				}
			})
			u := s.Process.User
			if u.UID != tt.uid || u.GID != tt.gid {
				t.Errorf("uid:gid = %d:%d, want %d:%d", u.UID, u.GID, tt.uid, tt.gid)
			}
			if tt.groups != nil && !slices.Equal(u.AdditionalGids, tt.groups) {
				t.Errorf("additional gids = %v, want %v", u.AdditionalGids, tt.groups)
			}
			if len(u.AdditionalGids) == 0 || u.AdditionalGids[0] != tt.gid {
				t.Errorf("additional gids = %v, want the primary gid %d first", u.AdditionalGids, tt.gid)
			}
			if homes := homeEnv(s.Process.Env); !slices.Equal(homes, []string{tt.home}) {
				t.Errorf("HOME = %q, want %q", homes, tt.home)
			}
		})
	}
}

// homeEnv is the values of every HOME in env.
func homeEnv(env []string) []string {
	var out []string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "HOME="); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestBuildSpecUserInvalid(t *testing.T) {
	testInvalid(t, []invalidCase{
		{"RunAsGroup without a user", func(t *testing.T, in *testCase) {
			securityContext(in).RunAsGroup = ptr(int64(2000))
		}},
		{"RunAsGroup with only an image user", func(t *testing.T, in *testCase) {
			in.Image.User = "app"
			securityContext(in).RunAsGroup = ptr(int64(2000))
		}},
		{"unknown RunAsUsername", func(t *testing.T, in *testCase) { securityContext(in).RunAsUsername = "nobody" }},
		{"RunAsUsername without passwd", func(t *testing.T, in *testCase) {
			in.Rootfs = newRootfs(t, "", "")
			securityContext(in).RunAsUsername = "app"
		}},
		{"unknown image user", func(t *testing.T, in *testCase) { in.Image.User = "nobody" }},
		{"unknown image group", func(t *testing.T, in *testCase) { in.Image.User = "app:nogroup" }},
	})
}

// The image's /etc/passwd and /etc/group are the image's to make: a FIFO
// must not hang the create, a device must not be opened, a symlink must
// not lead to the host's file.
func TestBuildSpecHostileUserFiles(t *testing.T) {
	tests := map[string]func(t *testing.T, etc string){
		"passwd is a FIFO": func(t *testing.T, etc string) {
			os.Remove(filepath.Join(etc, "passwd"))
			if err := unix.Mkfifo(filepath.Join(etc, "passwd"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"group is a FIFO": func(t *testing.T, etc string) {
			os.Remove(filepath.Join(etc, "group"))
			if err := unix.Mkfifo(filepath.Join(etc, "group"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"passwd is a device node": func(t *testing.T, etc string) {
			os.Remove(filepath.Join(etc, "passwd"))
			if err := unix.Mknod(filepath.Join(etc, "passwd"), unix.S_IFCHR|0o644, int(unix.Mkdev(1, 5))); err != nil { // /dev/zero
				t.Fatal(err)
			}
		},
	}
	for name, setup := range tests {
		t.Run(name, func(t *testing.T) {
			in := testInput(t)
			in.Container.Security.RunAsUsername = "app"
			setup(t, filepath.Join(in.Rootfs, "etc"))
			done := make(chan error, 1)
			go func() { _, err := in.Host.Build(in.Input); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not a regular file") {
					t.Errorf("Build = %v; want ErrInvalid: not a regular file", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Build blocked on the image's user files")
			}
		})
	}
	// A passwd symlinked to the host's /etc/passwd resolves inside the
	// image (here to itself, a loop): never to the host's file.
	in := testInput(t)
	in.Container.Security.RunAsUsername = "app"
	passwd := filepath.Join(in.Rootfs, "etc", "passwd")
	os.Remove(passwd)
	if err := os.Symlink("/etc/passwd", passwd); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Host.Build(in.Input); !errors.Is(err, ErrInvalid) {
		t.Errorf("a passwd symlink to itself: %v; want the user unknown (ErrInvalid)", err)
	}
}
