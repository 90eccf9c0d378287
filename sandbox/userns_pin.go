package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/podinit"
	"github.com/berth-dev/berth/internal/undo"
)

// makeUserNamespace makes a user-namespaced pod's user namespace, with
// the pod's ID mappings, and the IPC, UTS and (when its containers share
// one) PID namespaces it owns, and pins them, with no OCI runtime:
//   - a pod that shares its PID namespace gets its init there, which berth
//     starts in them (podinit.StartInUserNS) and which lives with the pod;
//   - for any other pod, a child of berth is cloned into new namespaces,
//     running the pause program, and killed once they are pinned (a pinned
//     namespace lives as long as its pin).
//
// The hostname is set from a berth thread: berth made the user namespace,
// so it holds every capability in it.
func (m *Manager) makeUserNamespace(rec *Record, u *undo.Stack, hostname string) error {
	var flags uintptr
	pins := map[string]string{"user": rec.PauseNS["user"]}
	for kind, flag := range map[string]uintptr{"ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS} {
		if p := rec.PauseNS[kind]; p != "" {
			flags |= flag
			pins[kind] = p
		}
	}
	var holder int
	if pidPin := rec.PauseNS["pid"]; pidPin != "" {
		m.undoInit(rec, u)
		init, err := m.startUsernsInit(rec, flags)
		if err != nil {
			return err
		}
		if err := m.keepInit(rec, init); err != nil {
			return err
		}
		pins["pid"] = pidPin
		holder = init.pid
	} else {
		// The holder dies with the thread that started it (Pdeathsig):
		// that thread stays until the holder is killed, below, and goes
		// only if berth does.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd, err := startNamespaceHolder(rec, m.opts.Pause.Command, flags)
		if err != nil {
			return err
		}
		defer func() {
			cmd.Process.Kill()
			cmd.Wait()
		}()
		holder = cmd.Process.Pid
	}
	u.Push("unpin pod user namespace", func() error { return unpinNamespaces(pins) })
	if err := pinProcessNamespaces(holder, pins); err != nil {
		return err
	}
	if pins["uts"] != "" && hostname != "" {
		err := inNamespaces("", map[string]string{"uts": pins["uts"]}, func() error {
			return unix.Sethostname([]byte(hostname))
		})
		if err != nil {
			return fmt.Errorf("set hostname %q: %w", hostname, err)
		}
	}
	return nil
}

// startUsernsInit starts a user-namespaced pod's init, in new namespaces
// its new user namespace owns (the PID namespace and those of flags), and
// in the pod's netns.
func (m *Manager) startUsernsInit(rec *Record, flags uintptr) (startedInit, error) {
	u := rec.Config.Namespaces.UserNS
	var joins map[string]string
	if rec.NetNS != "" {
		joins = map[string]string{"net": rec.NetNS}
	}
	birth := m.initBirthplace(rec)
	defer birth.Close()
	var pid int
	// From a thread in the netns and the pod's cgroup, which the init
	// inherits; the thread stays in the host's mount namespace, whose
	// /proc Go writes the init's mappings through.
	err := inNamespaces("", joins, func() (err error) {
		var attr syscall.SysProcAttr
		if err := bornIn(birth, &attr); err != nil {
			return err
		}
		pid, err = podinit.StartInUserNS(podinit.UserNSInit{
			Rootfs:      m.pauseRootfsOf(rec),
			Command:     m.opts.Pause.Command,
			UIDs:        idMappings(u.UIDs),
			GIDs:        idMappings(u.GIDs),
			Namespaces:  flags,
			UID:         pauseUID,
			GID:         pauseUID,
			UseCgroupFD: attr.UseCgroupFD,
			CgroupFD:    attr.CgroupFD,
		})
		return err
	})
	if err != nil {
		return startedInit{}, fmt.Errorf("start the pod's init: %w", err)
	}
	return adoptInit(pid)
}

// startNamespaceHolder starts the pause program in a new user namespace
// with the pod's mappings and new namespaces of flags, which it owns. It
// must be started from a thread in the host's namespaces: Go writes the
// child's uid_map and gid_map through this thread's /proc. The child is
// killed when that thread exits.
func startNamespaceHolder(rec *Record, pause []string, flags uintptr) (*exec.Cmd, error) {
	u := rec.Config.Namespaces.UserNS
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer devNull.Close()
	cmd := &exec.Cmd{
		Path:   pause[0],
		Args:   pause,
		Env:    []string{},
		Stdin:  devNull,
		Stdout: devNull,
		Stderr: devNull,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER | flags,
			UidMappings: idMappings(u.UIDs),
			GidMappings: idMappings(u.GIDs),
			// Written by berth, which may: the pod's root may setgroups.
			GidMappingsEnableSetgroups: true,
			Setsid:                     true,
			// Killed once its namespaces are pinned, or by the kernel if
			// berth dies first.
			Pdeathsig: syscall.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the holder of the pod's user namespace: %w", err)
	}
	return cmd, nil
}

func idMappings(maps []IDMap) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(maps))
	for i, m := range maps {
		out[i] = syscall.SysProcIDMap{ContainerID: int(m.Container), HostID: int(m.Host), Size: int(m.Size)}
	}
	return out
}

// hostIDOf is the host ID that ID 0 of the pod's user namespace maps to.
func hostIDOf(maps []IDMap) (int, bool) {
	for _, m := range maps {
		if m.Container == 0 && m.Size > 0 {
			return int(m.Host), true
		}
	}
	return 0, false
}

// applyUsernsSysctls sets a user-namespaced pod's sysctls. Those of its
// netns (which the host's user namespace owns) are written as root. Those
// of its IPC namespace are written as the pod's root: the kernel lets only
// the owning namespace's root write them, and host root gets the "other"
// bits (read-only).
func applyUsernsSysctls(rec *Record) error {
	inNet, inIPC := map[string]string{}, map[string]string{}
	for key, value := range rec.Config.Sysctls {
		if strings.HasPrefix(strings.ReplaceAll(key, "/", "."), "net.") {
			inNet[key] = value
		} else {
			inIPC[key] = value
		}
	}
	if len(inNet) > 0 {
		if err := applySysctls(inNet, map[string]string{"net": rec.NetNS}); err != nil {
			return err
		}
	}
	if len(inIPC) == 0 {
		return nil
	}
	u := rec.Config.Namespaces.UserNS
	uid, okU := hostIDOf(u.UIDs)
	gid, okG := hostIDOf(u.GIDs)
	if !okU || !okG {
		return invalidf("IPC sysctls need the pod's root mapped to a host ID; its user namespace maps no ID 0")
	}
	files, err := sysctlFiles(inIPC)
	if err != nil {
		return err
	}
	return inNamespaces("", map[string]string{"ipc": rec.PauseNS["ipc"]}, func() error {
		// This thread only, with raw syscalls (syscall.Setresuid changes
		// every thread of berth); inNamespaces throws the thread away.
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, ^uintptr(0), uintptr(gid), ^uintptr(0)); e != 0 {
			return fmt.Errorf("take the pod root's group %d: %w", gid, e)
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, ^uintptr(0), uintptr(uid), ^uintptr(0)); e != 0 {
			return fmt.Errorf("take the pod root's user %d: %w", uid, e)
		}
		return writeSysctls(files)
	})
}
