package spec

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/moby/sys/user"

	"github.com/berth-dev/berth/internal/fsutil"
)

// User is the identity a container's process runs as.
type User struct {
	UID    uint32
	GID    uint32
	Groups []uint32 // supplemental
	Home   string
}

// resolveUser picks the user from the security context, else the image,
// and resolves names through the image's /etc/passwd and /etc/group. A
// numeric user needs no passwd file.
func resolveUser(rootfs string, sc *Security, imageUser string) (User, error) {
	spec := imageUser
	switch {
	case sc.RunAsUser != nil:
		spec = strconv.FormatInt(*sc.RunAsUser, 10)
	case sc.RunAsUsername != "":
		spec = sc.RunAsUsername
	case sc.RunAsGroup != nil:
		return User{}, invalidf("run_as_group is set without run_as_user or run_as_username")
	}
	runAsGroup := sc.RunAsGroup
	if runAsGroup != nil {
		// Resolve the user alone (so /etc/group memberships are found),
		// then let the group replace the primary one.
		spec, _, _ = strings.Cut(spec, ":")
	}
	passwd, err := imageFile(rootfs, "/etc/passwd")
	if err != nil {
		return User{}, err
	}
	group, err := imageFile(rootfs, "/etc/group")
	if err != nil {
		return User{}, err
	}
	eu, err := user.GetExecUser(spec, &user.ExecUser{Home: "/"}, passwd, group)
	if err != nil {
		return User{}, invalidf("user %q: %v", spec, err)
	}
	u := User{UID: uint32(eu.Uid), GID: uint32(eu.Gid), Home: eu.Home}
	if runAsGroup != nil {
		u.GID = uint32(*runAsGroup)
	}
	seen := map[uint32]bool{}
	add := func(gid uint32) {
		if !seen[gid] {
			seen[gid] = true
			u.Groups = append(u.Groups, gid)
		}
	}
	add(u.GID)
	if !sc.StrictGroups {
		for _, gid := range eu.Sgids {
			add(uint32(gid))
		}
	}
	for _, gid := range sc.SupplementalGroups {
		add(uint32(gid))
	}
	return u, nil
}

// maxImageFile bounds what berth reads of an image's /etc/passwd or
// /etc/group.
const maxImageFile = 8 << 20

// imageFile reads a file of the image for user lookups: inside the rootfs
// (no symlink out of it), a regular file only (a FIFO would hang the
// create, a device would be opened by root on the host), bounded. A
// missing file is no file (nil): numeric users need none.
func imageFile(rootfs, path string) (io.Reader, error) {
	data, err := fsutil.ReadRegularInRoot(rootfs, path, maxImageFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, invalidf("the image's %s: %v", path, err)
	}
	return bytes.NewReader(data), nil
}
