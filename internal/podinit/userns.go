package podinit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The init of a user-namespaced pod that shares its PID namespace must be
// made by the pod's root: its mount namespace, with the empty tree, must be
// one the pod's user namespace owns, made after the namespace has its ID
// mappings. Go runs no code of ours between a clone and its exec, so berth
// clones itself into the pod's new namespaces with the pod's mappings
// (written by Go from berth's side, before the child goes on) as the pod's
// root, and execs its own binary as a helper. The helper makes the tree,
// becomes the pause user and execs the pause program: it is PID 1 from the
// start, and the pause program takes its place.

// helperName is the helper's argv[0], which tells berth's binary to be it.
const helperName = "berth-pod-init"

// The helper's inherited files, after stdin, stdout and stderr.
const (
	// The pause program, as a detached bind mount berth made of it: the
	// pod's root may not reach its path, and a bind's source must be in
	// the mount namespace it is bound into, which a file berth opened is
	// not.
	programFD = 3
	reportFD  = 4 // the pipe the helper writes why it failed to; closed unread at its exec
)

// startTimeout bounds how long berth waits for the helper to exec the
// pause program: it does a few mounts, so a hang means something is wrong.
const startTimeout = 10 * time.Second

// UserNSInit is what StartInUserNS starts.
type UserNSInit struct {
	// Rootfs is the pod's own empty pause rootfs, which the pod's root
	// must be able to reach.
	Rootfs string
	// Command is the pause program (an absolute host path) and its args.
	Command []string
	// UIDs and GIDs map the pod's user namespace.
	UIDs, GIDs []syscall.SysProcIDMap
	// Namespaces are clone flags of the namespaces made with the user and
	// PID namespaces, and owned by the user namespace (CLONE_NEWIPC,
	// CLONE_NEWUTS).
	Namespaces uintptr
	// UID and GID are the user and group the init runs as, in the pod's
	// user namespace.
	UID, GID int
	// UseCgroupFD and CgroupFD, as in syscall.SysProcAttr: the cgroup v2
	// dir the init is cloned into.
	UseCgroupFD bool
	CgroupFD    int
}

// CanStartInUserNS says why berth cannot start a user-namespaced pod's
// init with program as its pause program, if it cannot: the helper is
// berth's own binary, executed as the pod's root, so it must be executable
// by other users; and the kernel must make detached bind mounts (5.2).
func CanStartInUserNS(program string) error {
	fi, err := os.Stat("/proc/self/exe")
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o001 == 0 {
		exe, _ := os.Readlink("/proc/self/exe")
		return fmt.Errorf("berth's binary %s (mode %v) is not executable by other users, and the helper that starts a user-namespaced pod's init runs it as the pod's root", exe, fi.Mode().Perm())
	}
	f, err := bindProgram(program)
	if err != nil {
		return err
	}
	return f.Close()
}

// bindProgram makes a detached bind mount of the pause program, for the
// helper to mount in the init's tree.
func bindProgram(program string) (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, program, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("make a bind mount of the pause program %s: %w", program, err)
	}
	return os.NewFile(uintptr(fd), "pause program"), nil
}

// StartInUserNS starts the init of a user-namespaced pod: PID 1 of a new
// PID namespace, in a new user namespace with the given mappings and the
// new namespaces it owns, in a tree of its own, as the pause user with no
// capabilities and no_new_privs, in its own session. It returns once the
// pause program runs, or with why it could not. The caller reaps the init.
// The init's other namespaces (its netns) are the calling thread's, which
// must be in the host's mount namespace: Go writes the child's mappings
// through this thread's /proc.
func StartInUserNS(c UserNSInit) (pid int, err error) {
	if len(c.Command) == 0 || !strings.HasPrefix(c.Command[0], "/") {
		return 0, fmt.Errorf("pause command %q: want an absolute path", c.Command)
	}
	program, err := bindProgram(c.Command[0])
	if err != nil {
		return 0, err
	}
	defer program.Close()
	report, reportW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer report.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		reportW.Close()
		return 0, err
	}
	defer devNull.Close()
	args := append([]string{helperName, c.Rootfs, strconv.Itoa(c.UID), strconv.Itoa(c.GID), "--"}, c.Command[1:]...)
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       args,
		Env:        []string{},
		Stdin:      devNull,
		Stdout:     devNull,
		Stderr:     devNull,
		ExtraFiles: []*os.File{program, reportW},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWPID | c.Namespaces,
			UidMappings: c.UIDs,
			GidMappings: c.GIDs,
			// Written by berth, which may: the pod's root may setgroups.
			GidMappingsEnableSetgroups: true,
			// The pod's root, set once the mappings are written: the
			// helper's exec then gives it every capability in the pod's
			// user namespace, and none outside it.
			Credential:  &syscall.Credential{Uid: 0, Gid: 0},
			Setsid:      true,
			UseCgroupFD: c.UseCgroupFD,
			CgroupFD:    c.CgroupFD,
		},
	}
	err = cmd.Start()
	reportW.Close()
	if err != nil {
		return 0, fmt.Errorf("start the pod init's helper: %w", err)
	}
	failed := func(why error) (int, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, why
	}
	report.SetReadDeadline(time.Now().Add(startTimeout))
	why, err := io.ReadAll(io.LimitReader(report, 4096))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return failed(fmt.Errorf("the pod init's helper did not exec the pause program within %v", startTimeout))
	case err != nil:
		return failed(fmt.Errorf("read the pod init's helper: %w", err))
	case len(why) > 0:
		return failed(fmt.Errorf("pod init: %s", why))
	}
	pid = cmd.Process.Pid
	return pid, cmd.Process.Release()
}

// Before the rest of berth's packages are initialized (the helper needs
// none of them, and they cost milliseconds), a helper process does its
// work here and never returns.
func init() {
	if len(os.Args) == 0 || os.Args[0] != helperName {
		return
	}
	err := runHelper(os.Args[1:])
	report := os.NewFile(reportFD, "report")
	if err == nil {
		err = errors.New("the pause program's exec returned")
	}
	fmt.Fprint(report, err.Error())
	os.Exit(1)
}

// runHelper is the helper: args are the rootfs, the UID and GID to run as
// and, after "--", the pause program's args. It returns only on failure.
func runHelper(args []string) error {
	if len(args) < 4 || args[3] != "--" {
		return fmt.Errorf("helper args %q: want rootfs, uid, gid, --, pause args", args)
	}
	uid, err1 := strconv.Atoi(args[1])
	gid, err2 := strconv.Atoi(args[2])
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	// A Go program's init runs on the main thread; what follows changes
	// this thread only, and the exec keeps this thread's state.
	unix.CloseOnExec(programFD)
	unix.CloseOnExec(reportFD)
	mountProgram := func(target string) error {
		return unix.MoveMount(programFD, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH)
	}
	if err := enterRoot(args[0], mountProgram); err != nil {
		return err
	}
	if err := dropPrivileges(uid, gid); err != nil {
		return err
	}
	argv := append([]string{Program}, args[4:]...)
	return fmt.Errorf("exec the pause program: %w", unix.Exec(Program, argv, []string{}))
}

// dropPrivileges makes the calling thread the given user and group, with
// an empty capability bounding set and no_new_privs, as runc would the
// pause process. Raw syscalls change this thread only; it execs next.
func dropPrivileges(uid, gid int) error {
	// Up to the most a capability set holds: the kernel's own last
	// capability may be past the one this package knows.
	for c := 0; c < 64; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return fmt.Errorf("become group %d: %w", gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return fmt.Errorf("become user %d: %w", uid, e)
	}
	return nil
}
