package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// pinUserNamespace makes a user-namespaced pod's user namespace, with the
// pod's ID mappings, and the IPC and UTS namespaces it owns, and pins them,
// with no OCI runtime and no pause process: a child of berth is cloned
// into new ones, running the pause program, and killed once its
// namespaces are bind-mounted (a pinned namespace lives as long as its
// pin). The hostname is set from a berth thread: berth made the user
// namespace, so it holds every capability in it.
//
// A pod that shares its PID namespace needs an init in the user namespace
// for good; that is still the runtime's pause (holdsItself).
func pinUserNamespace(rec *Record, pause []string, hostname string) error {
	u := rec.Config.Namespaces.UserNS
	flags := uintptr(unix.CLONE_NEWUSER)
	pins := map[string]string{"user": rec.PauseNS["user"]}
	for kind, flag := range map[string]uintptr{"ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS} {
		if p := rec.PauseNS[kind]; p != "" {
			flags |= flag
			pins[kind] = p
		}
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
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
			Cloneflags:  flags,
			UidMappings: idMappings(u.UIDs),
			GidMappings: idMappings(u.GIDs),
			// Written by berth, which may: the pod's root may setgroups.
			GidMappingsEnableSetgroups: true,
			Setsid:                     true,
		},
	}
	// Started from a thread in the host's namespaces: Go writes the child's
	// uid_map and gid_map through this thread's /proc.
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the holder of the pod's user namespace: %w", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	if err := pinProcessNamespaces(cmd.Process.Pid, pins); err != nil {
		unpinNamespaces(pins)
		return err
	}
	if pins["uts"] != "" && hostname != "" {
		err := inNamespaces("", map[string]string{"uts": pins["uts"]}, func() error {
			return unix.Sethostname([]byte(hostname))
		})
		if err != nil {
			unpinNamespaces(pins)
			return fmt.Errorf("set hostname %q: %w", hostname, err)
		}
	}
	return nil
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
