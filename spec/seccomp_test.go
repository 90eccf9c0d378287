package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// testSeccompHost is an amd64 host on Debian 12's kernel.
var testSeccompHost = seccompHost{
	arch:   "amd64",
	arches: []rspec.Arch{rspec.ArchX86_64, rspec.ArchX86, rspec.ArchX32},
	kernel: kernelVersion{6, 1},
}

// The profiles critest writes for its Localhost tests, byte for byte
// (cri-tools v1.36.0, pkg/validate/security_context_linux.go).
const (
	critestBlockHostNameProfile = `{
     "defaultAction": "SCMP_ACT_ALLOW",
     "syscalls": [
         {
             "names": ["sethostname"],
             "action": "SCMP_ACT_ERRNO"
         }
     ]
}`
	critestBlockChmodProfile = `{
     "defaultAction": "SCMP_ACT_ALLOW",
     "syscalls": [
         {
             "names": ["chmod", "fchmodat"],
             "action": "SCMP_ACT_ERRNO"
         }
     ]
}`
)

func writeProfile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// errnoOf is the error number a rule's action returns (runc's default for
// SCMP_ACT_ERRNO being EPERM).
func errnoOf(action rspec.LinuxSeccompAction, errno *uint) uint {
	switch {
	case action != rspec.ActErrno:
		return 0
	case errno == nil:
		return uint(unix.EPERM)
	}
	return *errno
}

// verdict is what the filter p does with a syscall made with args: the
// action of the rules that match it (they must agree), or the default one.
func verdict(t *testing.T, p *rspec.LinuxSeccomp, name string, args ...uint64) (rspec.LinuxSeccompAction, uint) {
	t.Helper()
	var hits []rspec.LinuxSyscall
	for _, r := range p.Syscalls {
		if slices.Contains(r.Names, name) && argsMatch(r.Args, args) {
			hits = append(hits, r)
		}
	}
	if len(hits) == 0 {
		return p.DefaultAction, errnoOf(p.DefaultAction, p.DefaultErrnoRet)
	}
	action, errno := hits[0].Action, errnoOf(hits[0].Action, hits[0].ErrnoRet)
	for _, h := range hits[1:] {
		if h.Action != action || errnoOf(h.Action, h.ErrnoRet) != errno {
			t.Fatalf("%s%v matches rules with different actions: %+v", name, args, hits)
		}
	}
	return action, errno
}

func argsMatch(conds []rspec.LinuxSeccompArg, args []uint64) bool {
	for _, c := range conds {
		var v uint64
		if int(c.Index) < len(args) {
			v = args[c.Index]
		}
		var ok bool
		switch c.Op {
		case rspec.OpEqualTo:
			ok = v == c.Value
		case rspec.OpNotEqual:
			ok = v != c.Value
		case rspec.OpLessThan:
			ok = v < c.Value
		case rspec.OpLessEqual:
			ok = v <= c.Value
		case rspec.OpGreaterThan:
			ok = v > c.Value
		case rspec.OpGreaterEqual:
			ok = v >= c.Value
		case rspec.OpMaskedEqual:
			ok = v&c.Value == c.ValueTwo
		}
		if !ok {
			return false
		}
	}
	return true
}

// unconditional tells whether p has an argument-free rule for name with the
// given action.
func unconditional(p *rspec.LinuxSeccomp, name string, action rspec.LinuxSeccompAction) bool {
	return slices.ContainsFunc(p.Syscalls, func(r rspec.LinuxSyscall) bool {
		return r.Action == action && len(r.Args) == 0 && slices.Contains(r.Names, name)
	})
}

func rulesNaming(p *rspec.LinuxSeccomp, name string) []rspec.LinuxSyscall {
	var out []rspec.LinuxSyscall
	for _, r := range p.Syscalls {
		if slices.Contains(r.Names, name) {
			out = append(out, r)
		}
	}
	return out
}

func TestSeccompForProfileChoice(t *testing.T) {
	blockHost := writeProfile(t, "block-host-name.json", critestBlockHostNameProfile)
	badJSON := writeProfile(t, "bad.json", `{"defaultAction": "SCMP_ACT_ALLOW",`)
	missing := filepath.Join(t.TempDir(), "missing.json")
	sp := func(ty ProfileType, ref string) Profile { return Profile{Type: ty, LocalhostRef: ref} }
	const (
		unconfined = Unconfined
		runtimeDef = RuntimeDefault
		localhost  = Localhost
	)
	tests := []struct {
		name       string
		p          Profile
		privileged bool
		want       string // "nil", "default", "localhost" or "invalid"
		errHas     string // for "invalid": in the message
	}{
		{name: "nothing set is unconfined", p: Profile{}, want: "nil"},
		{name: "Unconfined", p: sp(unconfined, ""), want: "nil"},
		{name: "RuntimeDefault", p: sp(runtimeDef, ""), want: "default"},
		{name: "Localhost", p: sp(localhost, blockHost), want: "localhost"},
		{name: "Localhost without a path", p: sp(localhost, ""), want: "invalid", errHas: "localhost_ref"},
		{name: "Localhost relative path", p: sp(localhost, "profiles/x.json"), want: "invalid", errHas: `"profiles/x.json": the path must be absolute`},
		{name: "Localhost missing file", p: sp(localhost, missing), want: "invalid", errHas: fmt.Sprintf("%q cannot be read: no such file or directory", missing)},
		{name: "Localhost directory", p: sp(localhost, filepath.Dir(missing)), want: "invalid", errHas: "not a regular file (a directory)"},
		{name: "Localhost bad JSON", p: sp(localhost, badJSON), want: "invalid", errHas: fmt.Sprintf("%q: invalid JSON", badJSON)},
		{name: "unknown profile type", p: sp(7, ""), want: "invalid", errHas: "unknown seccomp profile type"},
		{name: "privileged ignores Localhost", p: sp(localhost, blockHost), privileged: true, want: "nil"},
		{name: "privileged ignores a missing Localhost file", p: sp(localhost, missing), privileged: true, want: "nil"},
		{name: "privileged ignores RuntimeDefault", p: sp(runtimeDef, ""), privileged: true, want: "nil"},
		{name: "privileged ignores an unknown profile type", p: sp(7, ""), privileged: true, want: "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := seccompFor(tt.p, tt.privileged, []string{"CAP_SYS_ADMIN"}, testSeccompHost)
			if tt.want == "invalid" {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v; want ErrInvalid", err)
				}
				if !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %q; want it to contain %q", err, tt.errHas)
				}
				if got != nil {
					t.Fatalf("profile %+v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch tt.want {
			case "nil":
				if got != nil {
					t.Fatalf("got a profile (%s); want unconfined", got.DefaultAction)
				}
			case "default":
				if got == nil || got.DefaultAction != rspec.ActErrno || !unconditional(got, "read", rspec.ActAllow) {
					t.Fatalf("got %+v; want the default profile", got)
				}
			case "localhost":
				if got == nil || got.DefaultAction != rspec.ActAllow {
					t.Fatalf("got %+v; want the block-host-name profile", got)
				}
				if a, errno := verdict(t, got, "sethostname"); a != rspec.ActErrno || errno != uint(unix.EPERM) {
					t.Fatalf("sethostname: %s %d; want EPERM", a, errno)
				}
			}
		})
	}
}

// TestSeccompForHost runs the exported method with this host's facts:
// RuntimeDefault (what the server makes of kubelet's empty profile) must
// confine the container (critest reads "Seccomp: 2").
func TestSeccompForHost(t *testing.T) {
	host := &Host{seccomp: probeSeccompHost()}
	p, err := host.Seccomp(Profile{Type: RuntimeDefault}, false, DefaultCapabilities)
	if err != nil || p == nil {
		t.Fatalf("Seccomp = %v, %v; want the default profile", p, err)
	}
	if a, _ := verdict(t, p, "sethostname"); a != rspec.ActErrno {
		t.Fatalf("sethostname %s; want denied", a)
	}
	if p, err := host.Seccomp(Profile{}, false, DefaultCapabilities); p != nil || err != nil {
		t.Fatalf("Seccomp(unconfined) = %v, %v; want unconfined", p, err)
	}
}

func TestDefaultSeccompProfile(t *testing.T) {
	withCaps := func(extra ...string) []string { return append(slices.Clone(DefaultCapabilities), extra...) }
	const (
		allow = rspec.ActAllow
		deny  = rspec.ActErrno
	)
	type call struct {
		name   string
		args   []uint64
		action rspec.LinuxSeccompAction
		errno  uint
	}
	allowed := func(names ...string) []call {
		var out []call
		for _, n := range names {
			out = append(out, call{name: n, action: allow})
		}
		return out
	}
	denied := func(names ...string) []call {
		var out []call
		for _, n := range names {
			out = append(out, call{name: n, action: deny, errno: 1})
		}
		return out
	}
	const cloneThread = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD
	tests := []struct {
		name   string
		caps   []string
		kernel kernelVersion
		calls  [][]call
	}{
		{
			name: "default capabilities",
			caps: withCaps(),
			calls: [][]call{
				allowed("read", "write", "exit_group", "openat", "execve", "statx", "close_range",
					"epoll_pwait2", "faccessat2", "futex_waitv", "landlock_create_ruleset",
					"memfd_secret", "openat2", "pidfd_open", "pidfd_send_signal",
					"process_mrelease", "rseq", "name_to_handle_at", "socketcall", "adjtimex",
					"ptrace", "process_vm_readv", "arch_prctl", "modify_ldt", "capset", "setresuid"),
				denied("sethostname", "setdomainname", "mount", "umount2", "unshare", "setns",
					"pivot_root", "reboot", "chroot", "init_module", "finit_module",
					"delete_module", "acct", "kcmp", "pidfd_getfd", "process_madvise", "iopl",
					"ioperm", "settimeofday", "clock_settime", "stime", "vhangup",
					"get_mempolicy", "mbind", "set_mempolicy", "syslog", "bpf",
					"perf_event_open", "fanotify_init", "lookup_dcookie", "open_by_handle_at",
					"io_uring_setup", "io_uring_enter", "io_uring_register", "quotactl",
					"keyctl", "add_key", "request_key", "userfaultfd", "kexec_load",
					"set_tls", "s390_runtime_instr", "swapon", "nfsservctl", "uselib"),
				{
					{name: "clone", args: []uint64{uint64(cloneThread)}, action: allow},
					{name: "clone", args: []uint64{uint64(unix.SIGCHLD)}, action: allow},
					{name: "clone", args: []uint64{uint64(unix.SIGCHLD) | unix.CLONE_NEWUTS}, action: deny, errno: 1},
					{name: "clone", args: []uint64{unix.CLONE_NEWUSER}, action: deny, errno: 1},
					{name: "clone", args: []uint64{unix.CLONE_NEWNS}, action: deny, errno: 1},
					{name: "clone3", action: deny, errno: uint(unix.ENOSYS)},
					{name: "socket", args: []uint64{unix.AF_INET}, action: allow},
					{name: "socket", args: []uint64{unix.AF_UNIX}, action: allow},
					{name: "socket", args: []uint64{unix.AF_NETLINK}, action: allow},
					{name: "socket", args: []uint64{unix.AF_NFC}, action: allow},
					{name: "socket", args: []uint64{unix.AF_KCM}, action: allow},
					{name: "socket", args: []uint64{unix.AF_ALG}, action: deny, errno: 1},
					{name: "socket", args: []uint64{unix.AF_VSOCK}, action: deny, errno: 1},
					{name: "personality", args: []uint64{0}, action: allow},
					{name: "personality", args: []uint64{8}, action: allow},
					{name: "personality", args: []uint64{0x20000}, action: allow},
					{name: "personality", args: []uint64{0x20008}, action: allow},
					{name: "personality", args: []uint64{0xffffffff}, action: allow},
					{name: "personality", args: []uint64{0x0040000}, action: deny, errno: 1}, // ADDR_NO_RANDOMIZE
					{name: "personality", args: []uint64{0x0400000}, action: deny, errno: 1}, // READ_IMPLIES_EXEC
				},
			},
		},
		{
			name: "CAP_SYS_ADMIN",
			caps: withCaps("CAP_SYS_ADMIN"),
			calls: [][]call{
				allowed("sethostname", "setdomainname", "mount", "umount", "umount2", "unshare",
					"setns", "clone3", "quotactl", "quotactl_fd", "bpf", "perf_event_open",
					"fanotify_init", "lookup_dcookie", "syslog", "fsopen", "fsmount", "fsconfig",
					"fspick", "move_mount", "open_tree", "mount_setattr", "lsm_get_self_attr"),
				denied("reboot", "chroot", "init_module", "kcmp", "settimeofday",
					"open_by_handle_at", "io_uring_setup", "pivot_root"),
				{
					{name: "clone", args: []uint64{unix.CLONE_NEWUTS | unix.CLONE_NEWNET}, action: allow},
					{name: "clone", args: []uint64{uint64(cloneThread)}, action: allow},
				},
			},
		},
		{name: "CAP_SYS_BOOT", caps: withCaps("CAP_SYS_BOOT"), calls: [][]call{allowed("reboot"), denied("sethostname", "kexec_load")}},
		{name: "CAP_SYS_CHROOT", caps: withCaps("CAP_SYS_CHROOT"), calls: [][]call{allowed("chroot"), denied("pivot_root")}},
		{name: "CAP_SYS_MODULE", caps: withCaps("CAP_SYS_MODULE"), calls: [][]call{allowed("init_module", "finit_module", "delete_module")}},
		{name: "CAP_SYS_PACCT", caps: withCaps("CAP_SYS_PACCT"), calls: [][]call{allowed("acct")}},
		{name: "CAP_SYS_PTRACE", caps: withCaps("CAP_SYS_PTRACE"), calls: [][]call{allowed("ptrace", "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev")}},
		{name: "CAP_SYS_RAWIO", caps: withCaps("CAP_SYS_RAWIO"), calls: [][]call{allowed("iopl", "ioperm")}},
		{name: "CAP_SYS_TIME", caps: withCaps("CAP_SYS_TIME"), calls: [][]call{allowed("settimeofday", "stime", "clock_settime", "clock_settime64")}},
		{name: "CAP_SYS_TTY_CONFIG", caps: withCaps("CAP_SYS_TTY_CONFIG"), calls: [][]call{allowed("vhangup")}},
		{name: "CAP_SYS_NICE", caps: withCaps("CAP_SYS_NICE"), calls: [][]call{allowed("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node")}},
		{name: "CAP_SYSLOG", caps: withCaps("CAP_SYSLOG"), calls: [][]call{allowed("syslog"), denied("sethostname")}},
		{name: "CAP_BPF", caps: withCaps("CAP_BPF"), calls: [][]call{allowed("bpf"), denied("perf_event_open")}},
		{name: "CAP_PERFMON", caps: withCaps("CAP_PERFMON"), calls: [][]call{allowed("perf_event_open"), denied("bpf")}},
		{name: "CAP_DAC_READ_SEARCH", caps: withCaps("CAP_DAC_READ_SEARCH"), calls: [][]call{allowed("open_by_handle_at")}},
		{name: "capability names without CAP_", caps: []string{"sys_admin", "Sys_Boot"}, calls: [][]call{allowed("sethostname", "reboot")}},
		{name: "no capabilities at all", caps: nil, calls: [][]call{allowed("read", "write", "setuid"), denied("sethostname")}},
		{
			name: "kernel before 4.8", caps: withCaps(), kernel: kernelVersion{4, 4},
			calls: [][]call{allowed("read"), denied("ptrace", "process_vm_readv", "process_vm_writev")},
		},
		{
			name: "kernel before 4.8 with CAP_SYS_PTRACE", caps: withCaps("CAP_SYS_PTRACE"), kernel: kernelVersion{4, 4},
			calls: [][]call{allowed("ptrace", "process_vm_readv", "process_vm_writev")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := testSeccompHost
			if tt.kernel.known() {
				host.kernel = tt.kernel
			}
			p, err := seccompFor(Profile{Type: RuntimeDefault}, false, tt.caps, host)
			if err != nil {
				t.Fatal(err)
			}
			if p.DefaultAction != rspec.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
				t.Fatalf("default action %s errno %v; want SCMP_ACT_ERRNO 1 (EPERM)", p.DefaultAction, p.DefaultErrnoRet)
			}
			if want := testSeccompHost.arches; !slices.Equal(p.Architectures, want) {
				t.Fatalf("architectures %v; want %v", p.Architectures, want)
			}
			if p.Flags != nil {
				t.Fatalf("flags %v; want none set (runc then picks its default)", p.Flags)
			}
			for _, calls := range tt.calls {
				for _, c := range calls {
					action, errno := verdict(t, p, c.name, c.args...)
					if action != c.action || errno != c.errno {
						t.Errorf("%s%v: %s errno %d; want %s errno %d", c.name, c.args, action, errno, c.action, c.errno)
					}
				}
			}
		})
	}
}

func TestDefaultSeccompCloneRules(t *testing.T) {
	p := defaultSeccomp(newCapSet(DefaultCapabilities), testSeccompHost)
	want := []rspec.LinuxSyscall{{
		Names:  []string{"clone"},
		Action: rspec.ActAllow,
		Args:   []rspec.LinuxSeccompArg{{Index: 0, Value: 0x7E020000, ValueTwo: 0, Op: rspec.OpMaskedEqual}},
	}}
	if got := rulesNaming(p, "clone"); !reflect.DeepEqual(got, want) {
		t.Fatalf("clone rules without CAP_SYS_ADMIN: %+v; want %+v", got, want)
	}
	enosys := uint(38)
	want = []rspec.LinuxSyscall{{Names: []string{"clone3"}, Action: rspec.ActErrno, ErrnoRet: &enosys}}
	if got := rulesNaming(p, "clone3"); !reflect.DeepEqual(got, want) {
		t.Fatalf("clone3 rules without CAP_SYS_ADMIN: %+v; want %+v", got, want)
	}

	p = defaultSeccomp(newCapSet([]string{"CAP_SYS_ADMIN"}), testSeccompHost)
	for _, name := range []string{"clone", "clone3"} {
		rules := rulesNaming(p, name)
		if len(rules) != 1 || !unconditional(p, name, rspec.ActAllow) {
			t.Fatalf("%s rules with CAP_SYS_ADMIN: %+v; want one unconditional allow", name, rules)
		}
	}
}

// TestDefaultSeccompRulesWellFormed checks the generated rules for every
// capability set that changes them: no name twice in a rule, one rule per
// action and arguments, no syscall both unconditional and in another rule
// (libseccomp rejects conflicting rules).
func TestDefaultSeccompRulesWellFormed(t *testing.T) {
	every := []string{}
	for _, g := range defaultSeccompGroups {
		for _, c := range []string{g.withCap, g.withoutCap} {
			if c != "" && !slices.Contains(every, c) {
				every = append(every, c)
			}
		}
	}
	capSets := [][]string{nil, DefaultCapabilities, every}
	for _, c := range every {
		capSets = append(capSets, []string{c})
	}
	for _, host := range []seccompHost{testSeccompHost, {arch: "arm64", arches: []rspec.Arch{rspec.ArchAARCH64, rspec.ArchARM}, kernel: kernelVersion{5, 10}}, {arch: "s390x", kernel: kernelVersion{4, 4}}} {
		for _, caps := range capSets {
			p := defaultSeccomp(newCapSet(caps), host)
			keys := map[string]bool{}
			plain := map[string]int{} // syscall → rules naming it without args
			named := map[string]int{} // syscall → rules naming it
			for _, r := range p.Syscalls {
				key := fmt.Sprintf("%s %v %v", r.Action, r.ErrnoRet, r.Args)
				if r.ErrnoRet != nil {
					key = fmt.Sprintf("%s %d %v", r.Action, *r.ErrnoRet, r.Args)
				}
				if keys[key] {
					t.Errorf("%s %v: two rules for %s", host.arch, caps, key)
				}
				keys[key] = true
				if len(r.Names) == 0 {
					t.Errorf("%s %v: a rule without names: %+v", host.arch, caps, r)
				}
				seen := map[string]bool{}
				for _, n := range r.Names {
					if seen[n] {
						t.Errorf("%s %v: %s twice in one rule", host.arch, caps, n)
					}
					seen[n] = true
					named[n]++
					if len(r.Args) == 0 {
						plain[n]++
					}
				}
				if !slices.IsSorted(r.Names) {
					t.Errorf("%s %v: names not sorted: %v", host.arch, caps, r.Names)
				}
			}
			for n, k := range plain {
				if named[n] != 1 || k != 1 {
					t.Errorf("%s %v: %s is in %d rules, %d without arguments", host.arch, caps, n, named[n], k)
				}
			}
		}
	}

	// The unconditional lists themselves hold each syscall once.
	seen := map[string]bool{}
	for _, g := range defaultSeccompGroups {
		if g.withCap != "" || g.withoutCap != "" || g.args != nil || g.arches != nil || g.minKernel.known() {
			continue
		}
		for _, n := range g.names {
			if seen[n] {
				t.Errorf("%s is listed twice", n)
			}
			seen[n] = true
		}
	}
	t.Logf("%d syscalls allowed unconditionally", len(seen))
}

// TestDefaultSeccompFresh makes sure callers may change what they get.
func TestDefaultSeccompFresh(t *testing.T) {
	a := defaultSeccomp(newCapSet(nil), testSeccompHost)
	a.Syscalls[0].Names[0] = "changed"
	*a.DefaultErrnoRet = 99
	a.Architectures[0] = "changed"
	b := defaultSeccomp(newCapSet(nil), testSeccompHost)
	if b.Syscalls[0].Names[0] == "changed" || *b.DefaultErrnoRet != 1 || b.Architectures[0] == "changed" {
		t.Fatal("defaultSeccomp shares memory between calls")
	}
	if testSeccompHost.arches[0] != rspec.ArchX86_64 {
		t.Fatal("defaultSeccomp shares the host's architectures")
	}
}

// dockerStyleProfile uses every part of the Docker format.
const dockerStyleProfile = `{
	"defaultAction": "SCMP_ACT_ERRNO",
	"defaultErrnoRet": 1,
	"archMap": [
		{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
		{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
		{"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
	],
	"syscalls": [
		{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW", "comment": "basics"},
		{"name": "getpid", "action": "SCMP_ACT_ALLOW"},
		{"names": ["sethostname", "setns"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["kcmp"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE"]}},
		{"names": ["clone"], "action": "SCMP_ACT_ALLOW",
			"args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
			"excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
		{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_PTRACE", "sys_boot"]}},
		{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
		{"names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm", "arm64"]}},
		{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
		{"names": ["futex_future"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "9.0"}},
		{"names": ["old_call"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.0"}},
		{"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"], "minKernel": "4.0"}},
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}], "includes": {}}
	]
}`

func TestSeccompProfileDockerFormat(t *testing.T) {
	eperm, enosys := uint(1), uint(38)
	basics := rspec.LinuxSyscall{Names: []string{"read", "write", "exit_group"}, Action: rspec.ActAllow}
	getpid := rspec.LinuxSyscall{Names: []string{"getpid"}, Action: rspec.ActAllow}
	admin := rspec.LinuxSyscall{Names: []string{"sethostname", "setns"}, Action: rspec.ActAllow}
	kcmp := rspec.LinuxSyscall{Names: []string{"kcmp"}, Action: rspec.ActAllow}
	clone := rspec.LinuxSyscall{Names: []string{"clone"}, Action: rspec.ActAllow,
		Args: []rspec.LinuxSeccompArg{{Index: 0, Value: 2114060288, Op: rspec.OpMaskedEqual}}}
	clone3 := rspec.LinuxSyscall{Names: []string{"clone3"}, Action: rspec.ActErrno, ErrnoRet: &enosys}
	mount := rspec.LinuxSyscall{Names: []string{"mount"}, Action: rspec.ActAllow}
	archPrctl := rspec.LinuxSyscall{Names: []string{"arch_prctl"}, Action: rspec.ActAllow}
	setTLS := rspec.LinuxSyscall{Names: []string{"set_tls"}, Action: rspec.ActAllow}
	ptrace := rspec.LinuxSyscall{Names: []string{"ptrace"}, Action: rspec.ActAllow}
	oldCall := rspec.LinuxSyscall{Names: []string{"old_call"}, Action: rspec.ActAllow}
	reboot := rspec.LinuxSyscall{Names: []string{"reboot"}, Action: rspec.ActAllow}
	personality := rspec.LinuxSyscall{Names: []string{"personality"}, Action: rspec.ActAllow,
		Args: []rspec.LinuxSeccompArg{{Index: 0, Value: 8, Op: rspec.OpEqualTo}}}

	amd64 := testSeccompHost
	arm64 := seccompHost{arch: "arm64", arches: []rspec.Arch{rspec.ArchAARCH64, rspec.ArchARM}, kernel: kernelVersion{5, 10}}
	oldKernel := testSeccompHost
	oldKernel.kernel = kernelVersion{4, 4}
	ppc := seccompHost{arch: "ppc64le", arches: []rspec.Arch{rspec.ArchPPC64LE}, kernel: kernelVersion{6, 1}}
	tests := []struct {
		name   string
		caps   []string
		host   seccompHost
		arches []rspec.Arch
		rules  []rspec.LinuxSyscall
	}{
		{
			name: "default capabilities on amd64", caps: DefaultCapabilities, host: amd64,
			arches: []rspec.Arch{rspec.ArchX86_64, rspec.ArchX86, rspec.ArchX32},
			rules:  []rspec.LinuxSyscall{basics, getpid, clone, clone3, mount, archPrctl, ptrace, personality},
		},
		{
			name: "CAP_SYS_ADMIN", caps: []string{"CAP_SYS_ADMIN"}, host: amd64,
			arches: []rspec.Arch{rspec.ArchX86_64, rspec.ArchX86, rspec.ArchX32},
			rules:  []rspec.LinuxSyscall{basics, getpid, admin, mount, archPrctl, ptrace, personality},
		},
		{
			name: "CAP_SYS_ADMIN and CAP_SYS_PTRACE", caps: []string{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}, host: amd64,
			arches: []rspec.Arch{rspec.ArchX86_64, rspec.ArchX86, rspec.ArchX32},
			rules:  []rspec.LinuxSyscall{basics, getpid, admin, kcmp, archPrctl, ptrace, personality},
		},
		{
			name: "CAP_SYS_BOOT, lower-case in the profile's excludes", caps: []string{"CAP_SYS_BOOT"}, host: amd64,
			arches: []rspec.Arch{rspec.ArchX86_64, rspec.ArchX86, rspec.ArchX32},
			rules:  []rspec.LinuxSyscall{basics, getpid, clone, clone3, archPrctl, ptrace, reboot, personality},
		},
		{
			name: "arm64", caps: nil, host: arm64,
			arches: []rspec.Arch{rspec.ArchAARCH64, rspec.ArchARM},
			rules:  []rspec.LinuxSyscall{basics, getpid, clone, clone3, mount, setTLS, ptrace, personality},
		},
		{
			name: "old kernel", caps: []string{"CAP_SYS_BOOT"}, host: oldKernel,
			arches: []rspec.Arch{rspec.ArchX86_64, rspec.ArchX86, rspec.ArchX32},
			rules:  []rspec.LinuxSyscall{basics, getpid, clone, clone3, archPrctl, oldCall, reboot, personality},
		},
		{
			name: "host not in the archMap", caps: nil, host: ppc,
			arches: nil,
			rules:  []rspec.LinuxSyscall{basics, getpid, clone, clone3, mount, ptrace, personality},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSeccompProfile([]byte(dockerStyleProfile), newCapSet(tt.caps), tt.host)
			if err != nil {
				t.Fatal(err)
			}
			want := &rspec.LinuxSeccomp{
				DefaultAction:   rspec.ActErrno,
				DefaultErrnoRet: &eperm,
				Architectures:   tt.arches,
				Syscalls:        tt.rules,
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(want, "", " ")
				t.Fatalf("got\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestSeccompProfileOCIFormat(t *testing.T) {
	const profile = `{
		"defaultAction": "SCMP_ACT_KILL_PROCESS",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
		"flags": ["SECCOMP_FILTER_FLAG_LOG"],
		"listenerPath": "/run/seccomp-agent.sock",
		"listenerMetadata": "pod=x",
		"syscalls": [
			{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["openat"], "action": "SCMP_ACT_NOTIFY"},
			{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
				"args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]},
			{"names": ["ioctl"], "action": "SCMP_ACT_LOG",
				"args": [{"index": 1, "value": 255, "valueTwo": 84, "op": "SCMP_CMP_MASKED_EQ"}]},
			{"names": ["getpid"], "action": "SCMP_ACT_TRACE", "errnoRet": 7}
		]
	}`
	var want rspec.LinuxSeccomp
	if err := json.Unmarshal([]byte(profile), &want); err != nil {
		t.Fatal(err)
	}
	path := writeProfile(t, "oci.json", profile)
	got, err := localhostSeccomp(path, newCapSet(nil), testSeccompHost)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("got %+v\nwant %+v", got, &want)
	}

	// An explicitly empty flags list stays empty: runc then adds none.
	got, err = parseSeccompProfile([]byte(`{"defaultAction": "SCMP_ACT_ALLOW", "flags": []}`), nil, testSeccompHost)
	if err != nil || got.Flags == nil || len(got.Flags) != 0 {
		t.Fatalf("empty flags: %+v, %v", got, err)
	}

	// An empty architectures list does not hide the archMap.
	got, err = parseSeccompProfile([]byte(`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": [],
		"archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}]}`), nil, testSeccompHost)
	if want := []rspec.Arch{rspec.ArchX86_64, rspec.ArchX86}; err != nil || !slices.Equal(got.Architectures, want) {
		t.Fatalf("architectures %v, %v; want %v", got.Architectures, err, want)
	}
}

func TestSeccompCritestProfiles(t *testing.T) {
	withAdmin := append(slices.Clone(DefaultCapabilities), "CAP_SYS_ADMIN")
	tests := []struct {
		name    string
		profile string
		caps    []string
		blocked []string
		allowed []string
	}{
		{name: "block host name with SYS_ADMIN", profile: critestBlockHostNameProfile, caps: withAdmin,
			blocked: []string{"sethostname"}, allowed: []string{"chmod", "setdomainname", "mount", "read"}},
		{name: "block chmod", profile: critestBlockChmodProfile, caps: DefaultCapabilities,
			blocked: []string{"chmod", "fchmodat"}, allowed: []string{"fchmod", "fchmodat2", "sethostname"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeProfile(t, "profile.json", tt.profile)
			profile := Profile{Type: Localhost, LocalhostRef: path}
			p, err := seccompFor(profile, false, tt.caps, testSeccompHost)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Architectures) != 0 || p.DefaultErrnoRet != nil {
				t.Fatalf("architectures %v, defaultErrnoRet %v: want neither (none in the file)", p.Architectures, p.DefaultErrnoRet)
			}
			for _, n := range tt.blocked {
				// critest expects "Operation not permitted": runc's
				// SCMP_ACT_ERRNO without errnoRet is EPERM.
				if a, errno := verdict(t, p, n); a != rspec.ActErrno || errno != uint(unix.EPERM) {
					t.Errorf("%s: %s %d; want EPERM", n, a, errno)
				}
			}
			for _, n := range tt.allowed {
				if a, _ := verdict(t, p, n); a != rspec.ActAllow {
					t.Errorf("%s: %s; want allowed", n, a)
				}
			}
			// Privileged containers ignore the profile (critest: "runtime
			// should ignore a seccomp profile that blocks setting hostname
			// when privileged").
			if p, err := seccompFor(profile, true, nil, testSeccompHost); p != nil || err != nil {
				t.Fatalf("privileged: %v, %v; want unconfined", p, err)
			}
		})
	}
}

func TestSeccompProfileInvalid(t *testing.T) {
	tests := []struct {
		name    string
		content string
		errHas  string
	}{
		{name: "empty file", content: ``, errHas: "invalid JSON"},
		{name: "truncated", content: "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [\n", errHas: "invalid JSON at line 4"},
		{name: "syntax error position", content: "{\n  \"defaultAction\": SCMP_ACT_ALLOW\n}", errHas: "invalid JSON at line 2, column 20"},
		{name: "wrong type", content: `{"defaultAction": 3}`, errHas: "invalid JSON"},
		{name: "a list", content: `[]`, errHas: "invalid JSON"},
		{name: "trailing garbage", content: `{"defaultAction": "SCMP_ACT_ALLOW"} x`, errHas: "invalid JSON"},
		{name: "empty object", content: `{}`, errHas: `no "defaultAction"`},
		{name: "null", content: `null`, errHas: `no "defaultAction"`},
		{name: "unknown default action", content: `{"defaultAction": "SCMP_ACT_MAYBE"}`, errHas: `defaultAction "SCMP_ACT_MAYBE"`},
		{name: "notify as default", content: `{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/x"}`, errHas: "cannot be SCMP_ACT_NOTIFY"},
		{name: "default errno too big", content: `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}`, errHas: "defaultErrnoRet 70000"},
		{name: "negative errno", content: `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}`, errHas: "invalid JSON"},
		{name: "unknown flag", content: `{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}`, errHas: `flag "SECCOMP_FILTER_FLAG_FAST"`},
		{name: "unknown architecture", content: `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}`, errHas: `architecture "SCMP_ARCH_Z80"`},
		{name: "unknown archMap architecture", content: `{"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["x86"]}]}`, errHas: `archMap: architecture "x86"`},
		{name: "architectures and archMap", content: `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}`, errHas: `both "architectures" and "archMap"`},
		{name: "name and names", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ERRNO"}]}`, errHas: `syscalls[0] (write): both "name" and "names"`},
		{name: "no names", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}`, errHas: "syscalls[0]: no syscall names"},
		{name: "empty name", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", ""], "action": "SCMP_ACT_ERRNO"}]}`, errHas: "an empty syscall name"},
		{name: "no action", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"]}]}`, errHas: `syscalls[0] (read): no "action"`},
		{name: "unknown action", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "deny"}]}`, errHas: `action "deny"`},
		{name: "notify without listener", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}`, errHas: "listenerPath"},
		{name: "notify on write", content: `{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]}`, errHas: "cannot be used for write"},
		{name: "errno too big", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5000}]}`, errHas: "errnoRet 5000"},
		{name: "argument index", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, errHas: "argument index 6"},
		{name: "unknown operator", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "=="}]}]}`, errHas: `"==" is not a seccomp operator`},
		{name: "missing operator", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1}]}]}`, errHas: `"" is not a seccomp operator`},
		{name: "bad minKernel", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "5"}}]}`, errHas: `minKernel "5"`},
		{name: "minKernel with a patch level", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "excludes": {"minKernel": "5.4.1"}}]}`, errHas: `minKernel "5.4.1"`},
		{name: "minKernel zero", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "0.0"}}]}`, errHas: `minKernel "0.0"`},
		// A rule another container's capabilities would drop is still checked.
		{name: "bad rule filtered out", content: `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "nope", "includes": {"caps": ["CAP_SYS_MODULE"]}}]}`, errHas: `action "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeProfile(t, "profile.json", tt.content)
			p, err := localhostSeccomp(path, newCapSet(DefaultCapabilities), testSeccompHost)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %+v, %v; want ErrInvalid", p, err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %q; want the path and %q", err, tt.errHas)
			}
		})
	}
}

func TestSeccompUnreadableProfile(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{ // path → the reason the message must give
		filepath.Join(dir, "missing.json"): "no such file or directory",
		dir:                                "not a regular file (a directory)",
		"/dev/zero":                        "not a regular file (a character device)",
	}
	if os.Geteuid() != 0 { // root reads a file whatever its mode
		path := writeProfile(t, "secret.json", critestBlockChmodProfile)
		if err := os.Chmod(path, 0); err != nil {
			t.Fatal(err)
		}
		cases[path] = "permission denied"
	}
	for path, reason := range cases {
		_, err := localhostSeccomp(path, nil, testSeccompHost)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), reason) {
			t.Errorf("%s: err = %v; want ErrInvalid naming the path and %q", path, err, reason)
		}
	}
}

func TestSeccompMinKernelUnknown(t *testing.T) {
	host := testSeccompHost
	host.kernel = kernelVersion{}
	_, err := parseSeccompProfile([]byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "5.4"}}]}`), nil, host)
	if err == nil || !strings.Contains(err.Error(), "kernel version is unknown") {
		t.Fatalf("err = %v", err)
	}
	// The default profile then leaves out what needs a kernel version.
	p := defaultSeccomp(newCapSet(nil), host)
	if a, _ := verdict(t, p, "ptrace"); a != rspec.ActErrno {
		t.Fatalf("ptrace %s on an unknown kernel; want denied", a)
	}
}

func TestKernelVersions(t *testing.T) {
	for release, want := range map[string]kernelVersion{
		"6.1.0-18-amd64":    {6, 1},
		"3.12-1-amd64":      {3, 12},
		"3.12.25-gentoo":    {3, 12},
		"6.18.44-fc-v769":   {6, 18},
		"5.15.0-1051-azure": {5, 15},
	} {
		got, err := parseKernelRelease(release)
		if err != nil || got != want {
			t.Errorf("parseKernelRelease(%q) = %v, %v; want %v", release, got, err, want)
		}
	}
	if _, err := parseKernelRelease("linux"); err == nil {
		t.Error("parseKernelRelease(linux): no error")
	}
	for s, want := range map[string]kernelVersion{"4.8": {4, 8}, "5.10": {5, 10}, "0.1": {0, 1}} {
		got, err := parseMinKernel(s)
		if err != nil || got != want {
			t.Errorf("parseMinKernel(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "5", "5.", ".5", "5.4.1", "a.b", "-1.2", "0.0", "300.1"} {
		if _, err := parseMinKernel(s); err == nil {
			t.Errorf("parseMinKernel(%q): no error", s)
		}
	}
	for _, c := range []struct {
		k, min kernelVersion
		want   bool
	}{{kernelVersion{6, 1}, kernelVersion{4, 8}, true}, {kernelVersion{4, 8}, kernelVersion{4, 8}, true}, {kernelVersion{4, 7}, kernelVersion{4, 8}, false}, {kernelVersion{3, 20}, kernelVersion{4, 0}, false}} {
		if got := c.k.atLeast(c.min); got != c.want {
			t.Errorf("%v.atLeast(%v) = %v", c.k, c.min, got)
		}
	}
}

// TestDefaultSeccompJSON writes the default profile as an OCI config
// carries it, reads it back, and checks that runc (when installed) knows
// every action, operator and architecture it uses. No container is run.
func TestDefaultSeccompJSON(t *testing.T) {
	caps := append(slices.Clone(DefaultCapabilities), "CAP_SYS_ADMIN", "CAP_SYS_PTRACE")
	host := &Host{seccomp: probeSeccompHost()}
	p, err := host.Seccomp(Profile{Type: RuntimeDefault}, false, caps)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(p, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "default.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var back rspec.LinuxSeccomp
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, p) {
		t.Fatal("the default profile does not survive JSON")
	}
	// The default profile, written out, is a valid Localhost profile.
	again, err := localhostSeccomp(path, newCapSet(caps), host.seccomp)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, p) {
		t.Fatal("the default profile read back as a Localhost profile differs")
	}

	const runc = "/usr/local/sbin/runc"
	if _, err := os.Stat(runc); err != nil {
		t.Skipf("no %s", runc)
	}
	out, err := exec.Command(runc, "features").Output()
	if err != nil {
		t.Skipf("%s features: %v", runc, err)
	}
	var features struct {
		Linux struct {
			Seccomp *struct {
				Enabled   *bool    `json:"enabled"`
				Actions   []string `json:"actions"`
				Operators []string `json:"operators"`
				Archs     []string `json:"archs"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(out, &features); err != nil {
		t.Fatal(err)
	}
	sc := features.Linux.Seccomp
	if sc == nil || sc.Enabled == nil || !*sc.Enabled {
		t.Fatalf("%s is built without seccomp", runc)
	}
	check := func(what, v string, known []string) {
		if !slices.Contains(known, v) {
			t.Errorf("%s: %s %q is unknown to runc", path, what, v)
		}
	}
	check("action", string(p.DefaultAction), sc.Actions)
	for _, a := range p.Architectures {
		check("architecture", string(a), sc.Archs)
	}
	for _, r := range p.Syscalls {
		check("action", string(r.Action), sc.Actions)
		for _, a := range r.Args {
			check("operator", string(a.Op), sc.Operators)
		}
	}
}

// A Localhost profile the pod names is read as a small regular file: a
// FIFO does not hang the create, /dev/zero does not fill berth's memory.
func TestSeccompProfileSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "profile.fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := writeProfile(t, "big.json", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [], "x": "`+strings.Repeat("y", maxSeccompProfile)+`"}`)
	for path, reason := range map[string]string{
		fifo:        "not a regular file (a FIFO)",
		"/dev/zero": "not a regular file (a character device)",
		big:         "file too large",
	} {
		done := make(chan error, 1)
		go func() { _, err := localhostSeccomp(path, nil, testSeccompHost); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), reason) {
				t.Errorf("%s: %v; want ErrInvalid with %q", path, err, reason)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("reading the profile %s blocked", path)
		}
	}
}
