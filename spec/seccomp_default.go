package spec

import (
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// berth's RuntimeDefault seccomp profile. It grants what Docker's default
// profile grants (the syscall lists and conditions are those of
// github.com/moby/profiles, as of its May 2026 state): everything below is
// denied with EPERM unless a group allows it.
//
// The profile is data: groups of syscalls that share an action, argument
// conditions and the capability, architecture or kernel they depend on.
// defaultSeccomp turns the groups that apply to a container into runtime-spec
// rules when the container is created.

// seccompGroup is one set of syscalls of the default profile.
type seccompGroup struct {
	names []string
	// action is what the syscalls do; "" allows them.
	action rspec.LinuxSeccompAction
	// errno is the error an SCMP_ACT_ERRNO action returns.
	errno uint
	// args must all match for the group to apply to a call.
	args []rspec.LinuxSeccompArg

	// The group applies only to a container holding withCap, only to one
	// lacking withoutCap, only on one of arches (the host's architecture by
	// the names profiles use: "amd64", "arm64", ...), never on notArches, and
	// only on a kernel at least minKernel.
	withCap, withoutCap string
	arches, notArches   []string
	minKernel           kernelVersion
}

// Syscalls any container may make: the kernel does its own checks
// (capabilities, namespaces) on them. Grouped by what they are for; a test
// keeps the lists free of duplicates.
var (
	seccompFileCalls = []string{
		"access", "chdir", "chmod", "chown", "chown32", "close", "close_range",
		"copy_file_range", "creat", "dup", "dup2", "dup3", "faccessat", "faccessat2",
		"fadvise64", "fadvise64_64", "fallocate", "fchdir", "fchmod", "fchmodat",
		"fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
		"flock", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync",
		"ftruncate", "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64",
		"ioctl", "lchown", "lchown32", "link", "linkat", "_llseek", "lseek", "lstat",
		"lstat64", "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at",
		"newfstatat", "open", "openat", "openat2", "pread64", "preadv", "preadv2",
		"pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
		"readlinkat", "readv", "rename", "renameat", "renameat2", "rmdir", "sendfile",
		"sendfile64", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
		"symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate",
		"truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
		"utimensat_time64", "utimes", "vmsplice", "write", "writev",
		// page-cache statistics and mount listing (kernel 6.5 and 6.8)
		"cachestat", "listmount", "statmount",
	}
	seccompXattrCalls = []string{
		"fgetxattr", "flistxattr", "fremovexattr", "fsetxattr", "getxattr", "getxattrat",
		"lgetxattr", "listxattr", "listxattrat", "llistxattr", "lremovexattr",
		"lsetxattr", "removexattr", "removexattrat", "setxattr", "setxattrat",
	}
	seccompWaitCalls = []string{ // event notification, polling, async I/O
		"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
		"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
		"fanotify_mark", "inotify_add_watch", "inotify_init", "inotify_init1",
		"inotify_rm_watch", "_newselect", "poll", "ppoll", "ppoll_time64", "pselect6",
		"pselect6_time64", "select", "signalfd", "signalfd4", "timerfd_create",
		"timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
		"io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
		"io_pgetevents_time64", "io_setup", "io_submit", "ioprio_get", "ioprio_set",
		// io_uring_* are left out: they bypass the filter's view of I/O.
	}
	seccompProcessCalls = []string{
		"capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "vfork",
		"wait4", "waitid", "waitpid", "getcpu", "getpgid", "getpgrp", "getpid", "getppid",
		"getpriority", "setpriority", "getrlimit", "setrlimit", "ugetrlimit",
		"prlimit64", "getrusage", "getsid", "setsid", "setpgid", "gettid",
		"get_robust_list", "set_robust_list", "get_thread_area", "set_thread_area",
		"set_tid_address", "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal",
		"process_mrelease", "prctl", "restart_syscall", "rseq", "seccomp",
		"landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
		"sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
		"sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
		"sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
		"sched_setparam", "sched_setscheduler", "sched_yield", "getrandom", "membarrier",
		"sysinfo", "times", "uname", "uretprobe", "riscv_hwprobe",
	}
	seccompCredentialCalls = []string{
		"getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
		"getgroups32", "getresgid", "getresgid32", "getresuid", "getresuid32", "getuid",
		"getuid32", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
		"setgid32", "setgroups", "setgroups32", "setregid", "setregid32", "setresgid",
		"setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setuid",
		"setuid32",
	}
	seccompSignalCalls = []string{
		"alarm", "pause", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
		"rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
		"rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack", "sigprocmask",
		"sigreturn",
	}
	seccompTimeCalls = []string{
		// adjtimex and clock_adjtime only read the clock without CAP_SYS_TIME.
		"adjtimex", "clock_adjtime", "clock_adjtime64", "clock_getres",
		"clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
		"clock_nanosleep_time64", "getitimer", "setitimer", "gettimeofday", "nanosleep",
		"time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
		"timer_gettime64", "timer_settime", "timer_settime64",
	}
	seccompMemoryCalls = []string{
		"brk", "madvise", "map_shadow_stack", "memfd_create", "memfd_secret", "mincore",
		"mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mremap", "mseal",
		"msync", "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free",
		"pkey_mprotect", "remap_file_pages",
		"futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
		"futex_wake",
	}
	seccompIPCCalls = []string{
		"ipc", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop",
		"semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
		"mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
		"mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
		"pipe", "pipe2",
	}
	// socket itself is allowed per address family, below.
	seccompSocketCalls = []string{
		"accept", "accept4", "bind", "connect", "getpeername", "getsockname",
		"getsockopt", "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
		"recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown",
		"socketcall", "socketpair",
	}
)

// cloneNamespaceFlags are the clone(2) flags that create namespaces: without
// CAP_SYS_ADMIN a container may clone only with none of them.
const cloneNamespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// Values of personality(2) (linux/personality.h).
const (
	perLinux      = 0x0000
	perLinux32    = 0x0008
	perUname26    = 0x0020000
	personalityOf = 0xffffffff // only queries the current persona
)

// personalities are the personality(2) arguments a container may pass:
// Linux and 32-bit Linux, each with or without a 2.6-style uname, and the
// query. ADDR_NO_RANDOMIZE and the other flags stay denied.
var personalities = []uint64{
	perLinux, perLinux32, perUname26, perUname26 | perLinux32, personalityOf,
}

func argIs(index uint, op rspec.LinuxSeccompOperator, value uint64) []rspec.LinuxSeccompArg {
	return []rspec.LinuxSeccompArg{{Index: index, Op: op, Value: value}}
}

// allowedWith is a group of syscalls a capability allows.
func allowedWith(capability string, names ...string) seccompGroup {
	return seccompGroup{names: names, withCap: capability}
}

// allowedOn is a group of syscalls that exist on some architectures only.
func allowedOn(arches []string, names ...string) seccompGroup {
	return seccompGroup{names: names, arches: arches}
}

// defaultSeccompGroups is the RuntimeDefault profile.
var defaultSeccompGroups = func() []seccompGroup {
	var groups []seccompGroup
	for _, names := range [][]string{
		seccompFileCalls, seccompXattrCalls, seccompWaitCalls, seccompProcessCalls,
		seccompCredentialCalls, seccompSignalCalls, seccompTimeCalls,
		seccompMemoryCalls, seccompIPCCalls, seccompSocketCalls,
	} {
		groups = append(groups, seccompGroup{names: names})
	}

	// Sockets of every address family but AF_ALG (the kernel crypto API)
	// and AF_VSOCK (host/guest sockets). Each group is one alternative.
	groups = append(groups,
		seccompGroup{names: []string{"socket"}, args: argIs(0, rspec.OpLessThan, unix.AF_ALG)},
		seccompGroup{names: []string{"socket"}, args: argIs(0, rspec.OpEqualTo, unix.AF_NFC)},
		seccompGroup{names: []string{"socket"}, args: argIs(0, rspec.OpGreaterThan, unix.AF_VSOCK)},
	)
	for _, p := range personalities {
		groups = append(groups, seccompGroup{names: []string{"personality"}, args: argIs(0, rspec.OpEqualTo, p)})
	}

	// Since Linux 4.8 ptrace cannot be used to bypass seccomp.
	groups = append(groups, seccompGroup{
		names:     []string{"process_vm_readv", "process_vm_writev", "ptrace"},
		minKernel: kernelVersion{4, 8},
	})

	groups = append(groups,
		allowedOn([]string{"amd64", "x32"}, "arch_prctl"),
		allowedOn([]string{"amd64", "x32", "x86"}, "modify_ldt"),
		allowedOn([]string{"arm", "arm64"}, "arm_fadvise64_64", "arm_sync_file_range",
			"sync_file_range2", "breakpoint", "cacheflush", "set_tls"),
		allowedOn([]string{"ppc64le"}, "sync_file_range2", "swapcontext"),
		allowedOn([]string{"s390", "s390x"}, "s390_pci_mmio_read", "s390_pci_mmio_write",
			"s390_runtime_instr"),
		allowedOn([]string{"riscv64"}, "riscv_flush_icache"),
	)

	// Capability-gated groups: the syscall is useless (or dangerous)
	// without the capability, so the filter follows the capability set.
	groups = append(groups,
		allowedWith("CAP_SYS_ADMIN",
			// namespaces and mounts
			"clone", "clone3", "setns", "unshare", "mount", "umount", "umount2",
			"mount_setattr", "move_mount", "open_tree", "fsconfig", "fsmount", "fsopen",
			"fspick", "sethostname", "setdomainname", "quotactl", "quotactl_fd",
			// tracing, auditing, LSM attributes
			"bpf", "perf_event_open", "fanotify_init", "lookup_dcookie", "syslog",
			"lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr"),
		allowedWith("CAP_BPF", "bpf"),
		allowedWith("CAP_PERFMON", "perf_event_open"),
		allowedWith("CAP_SYSLOG", "syslog"),
		allowedWith("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
		allowedWith("CAP_SYS_BOOT", "reboot"),
		allowedWith("CAP_SYS_CHROOT", "chroot"),
		allowedWith("CAP_SYS_MODULE", "init_module", "finit_module", "delete_module"),
		allowedWith("CAP_SYS_PACCT", "acct"),
		allowedWith("CAP_SYS_PTRACE", "ptrace", "process_vm_readv", "process_vm_writev",
			"process_madvise", "kcmp", "pidfd_getfd"),
		allowedWith("CAP_SYS_RAWIO", "iopl", "ioperm"),
		allowedWith("CAP_SYS_TIME", "settimeofday", "stime", "clock_settime",
			"clock_settime64"),
		allowedWith("CAP_SYS_TTY_CONFIG", "vhangup"),
		allowedWith("CAP_SYS_NICE", "get_mempolicy", "mbind", "set_mempolicy",
			"set_mempolicy_home_node"),
	)

	// Without CAP_SYS_ADMIN: clone without namespace flags (s390 passes the
	// flags second), and clone3, whose flags are behind a pointer the filter
	// cannot read, fails with ENOSYS so that libcs fall back to clone.
	groups = append(groups,
		seccompGroup{
			names: []string{"clone"}, withoutCap: "CAP_SYS_ADMIN", notArches: []string{"s390", "s390x"},
			args: []rspec.LinuxSeccompArg{{Index: 0, Op: rspec.OpMaskedEqual, Value: cloneNamespaceFlags, ValueTwo: 0}},
		},
		seccompGroup{
			names: []string{"clone"}, withoutCap: "CAP_SYS_ADMIN", arches: []string{"s390", "s390x"},
			args: []rspec.LinuxSeccompArg{{Index: 1, Op: rspec.OpMaskedEqual, Value: cloneNamespaceFlags, ValueTwo: 0}},
		},
		seccompGroup{
			names: []string{"clone3"}, withoutCap: "CAP_SYS_ADMIN",
			action: rspec.ActErrno, errno: uint(unix.ENOSYS),
		},
	)
	return groups
}()
