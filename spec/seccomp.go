package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/fsutil"
)

// Seccomp returns the seccomp config for a container (nil = unconfined).
//
// A privileged container is never confined. caps is the container's final
// capability set ("CAP_SYS_ADMIN" form): the RuntimeDefault profile and the
// conditional rules of a Localhost profile follow it. A Localhost profile
// that cannot be read or is not a valid profile is an ErrInvalid error
// naming the file.
func (h *Host) Seccomp(p Profile, privileged bool, caps []string) (*rspec.LinuxSeccomp, error) {
	return seccompFor(p, privileged, caps, h.seccomp)
}

func seccompFor(p Profile, privileged bool, caps []string, host seccompHost) (*rspec.LinuxSeccomp, error) {
	if privileged {
		return nil, nil
	}
	switch p.Type {
	case Unconfined:
		return nil, nil
	case RuntimeDefault:
		return defaultSeccomp(newCapSet(caps), host), nil
	case Localhost:
		return localhostSeccomp(p.LocalhostRef, newCapSet(caps), host)
	}
	return nil, invalidf("unknown seccomp profile type %v", p.Type)
}

// seccompHost is what a profile's conditions are matched against.
type seccompHost struct {
	// arch is the host's architecture as profile conditions name it
	// ("amd64", "arm64", ...).
	arch string
	// arches are the seccomp architectures of the host: the native one,
	// then the others its kernel also runs (x86 and x32 on amd64).
	arches []rspec.Arch
	kernel kernelVersion // zero when unknown
}

// hostSeccompArches maps GOARCH to the host's seccomp architectures.
var hostSeccompArches = map[string]struct {
	name   string
	arches []rspec.Arch
}{
	"amd64":   {"amd64", []rspec.Arch{rspec.ArchX86_64, rspec.ArchX86, rspec.ArchX32}},
	"386":     {"x86", []rspec.Arch{rspec.ArchX86}},
	"arm64":   {"arm64", []rspec.Arch{rspec.ArchAARCH64, rspec.ArchARM}},
	"arm":     {"arm", []rspec.Arch{rspec.ArchARM}},
	"riscv64": {"riscv64", []rspec.Arch{rspec.ArchRISCV64}},
	"ppc64le": {"ppc64le", []rspec.Arch{rspec.ArchPPC64LE}},
	"s390x":   {"s390x", []rspec.Arch{rspec.ArchS390X, rspec.ArchS390}},
	"loong64": {"loong64", []rspec.Arch{rspec.ArchLOONGARCH64}},
}

// probeSeccompHost reads the host's architecture and kernel version.
func probeSeccompHost() seccompHost {
	a := hostSeccompArches[runtime.GOARCH]
	h := seccompHost{arch: a.name, arches: a.arches}
	if h.arch == "" {
		h.arch = runtime.GOARCH
	}
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		h.kernel, _ = parseKernelRelease(unix.ByteSliceToString(uts.Release[:]))
	}
	return h
}

// kernelVersion is a kernel's version and major revision: 6.1 for 6.1.0-18-amd64.
type kernelVersion struct{ version, major int }

func (k kernelVersion) known() bool { return k != kernelVersion{} }

func (k kernelVersion) atLeast(min kernelVersion) bool {
	return k.version > min.version || k.version == min.version && k.major >= min.major
}

// parseKernelRelease reads uname's release ("6.1.0-18-amd64", "3.12-1-amd64").
func parseKernelRelease(release string) (kernelVersion, error) {
	var k kernelVersion
	if _, err := fmt.Sscanf(release, "%d.%d", &k.version, &k.major); err != nil {
		return kernelVersion{}, fmt.Errorf("kernel release %q: %w", release, err)
	}
	return k, nil
}

// parseMinKernel reads a profile's "minKernel": exactly "<version>.<major>".
func parseMinKernel(s string) (kernelVersion, error) {
	v, m, ok := strings.Cut(s, ".")
	vn, err1 := strconv.ParseUint(v, 10, 8)
	mn, err2 := strconv.ParseUint(m, 10, 8)
	if !ok || err1 != nil || err2 != nil || vn == 0 && mn == 0 {
		return kernelVersion{}, fmt.Errorf(`minKernel %q: want "<version>.<major>", like "5.4"`, s)
	}
	return kernelVersion{int(vn), int(mn)}, nil
}

// capSet is a container's capabilities, by "CAP_X" names.
type capSet map[string]bool

func newCapSet(caps []string) capSet {
	s := capSet{}
	for _, c := range caps {
		s[seccompCapName(c)] = true
	}
	return s
}

// seccompCapName accepts "sys_admin" and "CAP_SYS_ADMIN" alike.
func seccompCapName(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	return c
}

func (g *seccompGroup) appliesTo(caps capSet, host seccompHost) bool {
	switch {
	case g.withCap != "" && !caps[g.withCap],
		g.withoutCap != "" && caps[g.withoutCap],
		len(g.arches) > 0 && !slices.Contains(g.arches, host.arch),
		slices.Contains(g.notArches, host.arch),
		g.minKernel.known() && !host.kernel.atLeast(g.minKernel):
		return false
	}
	return true
}

// defaultSeccomp is the RuntimeDefault profile for a container holding caps:
// the groups that apply, merged into one rule per action and arguments.
func defaultSeccomp(caps capSet, host seccompHost) *rspec.LinuxSeccomp {
	var (
		rules []rspec.LinuxSyscall
		index = map[string]int{} // action, errno and args → rule
		named []map[string]bool  // per rule, its names
	)
	for i := range defaultSeccompGroups {
		g := &defaultSeccompGroups[i]
		if !g.appliesTo(caps, host) {
			continue
		}
		action := g.action
		if action == "" {
			action = rspec.ActAllow
		}
		key := fmt.Sprintf("%s %d %v", action, g.errno, g.args)
		r, ok := index[key]
		if !ok {
			r = len(rules)
			index[key] = r
			rule := rspec.LinuxSyscall{Action: action, Args: slices.Clone(g.args)}
			if action == rspec.ActErrno && g.errno != 0 {
				errno := g.errno
				rule.ErrnoRet = &errno
			}
			rules = append(rules, rule)
			named = append(named, map[string]bool{})
		}
		for _, n := range g.names {
			if !named[r][n] {
				named[r][n] = true
				rules[r].Names = append(rules[r].Names, n)
			}
		}
	}
	for i := range rules {
		slices.Sort(rules[i].Names)
	}
	eperm := uint(unix.EPERM)
	return &rspec.LinuxSeccomp{
		DefaultAction:   rspec.ActErrno,
		DefaultErrnoRet: &eperm,
		Architectures:   slices.Clone(host.arches),
		Syscalls:        rules,
	}
}

// localhostSeccomp reads a profile file of the node.
func localhostSeccomp(path string, caps capSet, host seccompHost) (*rspec.LinuxSeccomp, error) {
	if path == "" {
		return nil, invalidf("seccomp profile type Localhost without a profile path (localhost_ref)")
	}
	if !filepath.IsAbs(path) {
		return nil, invalidf("seccomp profile %q: the path must be absolute", path)
	}
	// A regular file, read without blocking and bounded: the path is the
	// pod's to name (a FIFO or /dev/zero must not hang or fill berth).
	data, err := fsutil.ReadRegular(path, maxSeccompProfile)
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return nil, invalidf("seccomp profile %q cannot be read: %v", path, err)
	}
	profile, err := parseSeccompProfile(data, caps, host)
	if err != nil {
		return nil, invalidf("seccomp profile %q: %v", path, err)
	}
	return profile, nil
}

// maxSeccompProfile bounds a Localhost profile's size (Docker's default
// profile is about 20 KiB).
const maxSeccompProfile = 4 << 20

// seccompFile is a profile file: Docker's (and containerd's, CRI-O's)
// format, of which the runtime-spec's LinuxSeccomp is a subset.
type seccompFile struct {
	DefaultAction    rspec.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet"`
	Architectures    []rspec.Arch             `json:"architectures"`
	ArchMap          []seccompArchMap         `json:"archMap"`
	Flags            []rspec.LinuxSeccompFlag `json:"flags"`
	ListenerPath     string                   `json:"listenerPath"`
	ListenerMetadata string                   `json:"listenerMetadata"`
	Syscalls         []seccompFileRule        `json:"syscalls"`
}

// seccompArchMap is an architecture and the ones its kernel also runs.
type seccompArchMap struct {
	Arch      rspec.Arch   `json:"architecture"`
	SubArches []rspec.Arch `json:"subArchitectures"`
}

type seccompFileRule struct {
	Name     string                   `json:"name"` // the older, single-name form
	Names    []string                 `json:"names"`
	Action   rspec.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet"`
	Args     []rspec.LinuxSeccompArg  `json:"args"`
	Includes *seccompCondition        `json:"includes"`
	Excludes *seccompCondition        `json:"excludes"`
}

// seccompCondition limits a rule to (includes) or keeps it from (excludes)
// containers with all (includes) or any (excludes) of caps, hosts of one of
// arches, or kernels at least minKernel.
type seccompCondition struct {
	Caps      []string `json:"caps"`
	Arches    []string `json:"arches"`
	MinKernel string   `json:"minKernel"`
}

// The values runtime-spec defines (runc knows them all but the flags it
// adds its TSYNC to).
var (
	seccompActions = []rspec.LinuxSeccompAction{
		rspec.ActKill, rspec.ActKillProcess, rspec.ActKillThread, rspec.ActTrap,
		rspec.ActErrno, rspec.ActTrace, rspec.ActAllow, rspec.ActLog, rspec.ActNotify,
	}
	seccompOperators = []rspec.LinuxSeccompOperator{
		rspec.OpNotEqual, rspec.OpLessThan, rspec.OpLessEqual, rspec.OpEqualTo,
		rspec.OpGreaterEqual, rspec.OpGreaterThan, rspec.OpMaskedEqual,
	}
	seccompArches = []rspec.Arch{
		rspec.ArchX86, rspec.ArchX86_64, rspec.ArchX32, rspec.ArchARM, rspec.ArchAARCH64,
		rspec.ArchMIPS, rspec.ArchMIPS64, rspec.ArchMIPS64N32, rspec.ArchMIPSEL,
		rspec.ArchMIPSEL64, rspec.ArchMIPSEL64N32, rspec.ArchPPC, rspec.ArchPPC64,
		rspec.ArchPPC64LE, rspec.ArchS390, rspec.ArchS390X, rspec.ArchPARISC,
		rspec.ArchPARISC64, rspec.ArchRISCV64, rspec.ArchLOONGARCH64, rspec.ArchM68K,
		rspec.ArchSH, rspec.ArchSHEB,
	}
	seccompFlags = []rspec.LinuxSeccompFlag{
		rspec.LinuxSeccompFlagLog, rspec.LinuxSeccompFlagSpecAllow,
		rspec.LinuxSeccompFlagWaitKillableRecv, "SECCOMP_FILTER_FLAG_TSYNC",
	}
)

// maxErrno is the largest error number the kernel passes on.
const maxErrno = 4095

// parseSeccompProfile checks a profile file and makes the container's
// config of it: the host's architectures, and the rules whose conditions
// hold for the container and the host.
func parseSeccompProfile(data []byte, caps capSet, host seccompHost) (*rspec.LinuxSeccomp, error) {
	var f seccompFile
	if err := json.Unmarshal(data, &f); err != nil {
		if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
			at := se.Offset - 1 // the byte it failed on
			if se.Offset >= int64(len(data)) && strings.Contains(se.Error(), "end of JSON input") {
				at = int64(len(data)) // just past the end
			}
			line, col := textPosition(data, at)
			return nil, fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, err)
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}

	if f.DefaultAction == "" {
		return nil, errors.New(`no "defaultAction"`)
	}
	if !slices.Contains(seccompActions, f.DefaultAction) {
		return nil, fmt.Errorf("defaultAction %q is not a seccomp action", f.DefaultAction)
	}
	if f.DefaultAction == rspec.ActNotify {
		return nil, errors.New("defaultAction cannot be SCMP_ACT_NOTIFY")
	}
	if f.DefaultErrnoRet != nil && *f.DefaultErrnoRet > maxErrno {
		return nil, fmt.Errorf("defaultErrnoRet %d is not an errno", *f.DefaultErrnoRet)
	}
	for _, fl := range f.Flags {
		if !slices.Contains(seccompFlags, fl) {
			return nil, fmt.Errorf("flag %q is not a seccomp filter flag", fl)
		}
	}

	out := &rspec.LinuxSeccomp{
		DefaultAction:    f.DefaultAction,
		DefaultErrnoRet:  f.DefaultErrnoRet,
		Flags:            f.Flags,
		ListenerPath:     f.ListenerPath,
		ListenerMetadata: f.ListenerMetadata,
	}
	if len(f.Architectures) > 0 && len(f.ArchMap) > 0 {
		return nil, errors.New(`both "architectures" and "archMap": use one`)
	}
	for _, a := range f.Architectures {
		if !slices.Contains(seccompArches, a) {
			return nil, fmt.Errorf("architecture %q is not a seccomp architecture", a)
		}
	}
	out.Architectures = f.Architectures
	hostMapped := false // the first archMap entry for the host counts
	for _, m := range f.ArchMap {
		for _, a := range append([]rspec.Arch{m.Arch}, m.SubArches...) {
			if !slices.Contains(seccompArches, a) {
				return nil, fmt.Errorf("archMap: architecture %q is not a seccomp architecture", a)
			}
		}
		if len(host.arches) > 0 && m.Arch == host.arches[0] && !hostMapped {
			hostMapped = true
			out.Architectures = append([]rspec.Arch{m.Arch}, m.SubArches...)
		}
	}

	for i, r := range f.Syscalls {
		rule, keep, err := r.convert(caps, host, f.ListenerPath)
		if err != nil {
			what := fmt.Sprintf("syscalls[%d]", i)
			if len(rule.Names) > 0 {
				what += " (" + rule.Names[0] + ")"
			}
			return nil, fmt.Errorf("%s: %v", what, err)
		}
		if keep {
			out.Syscalls = append(out.Syscalls, rule)
		}
	}
	return out, nil
}

// convert checks a rule and tells whether it holds for the container and
// the host.
func (r *seccompFileRule) convert(caps capSet, host seccompHost, listener string) (rspec.LinuxSyscall, bool, error) {
	rule := rspec.LinuxSyscall{Names: r.Names, Action: r.Action, ErrnoRet: r.ErrnoRet, Args: r.Args}
	if r.Name != "" {
		if len(r.Names) > 0 {
			return rule, false, errors.New(`both "name" and "names": use one`)
		}
		rule.Names = []string{r.Name}
	}
	if len(rule.Names) == 0 {
		return rule, false, errors.New("no syscall names")
	}
	for _, n := range rule.Names {
		if strings.TrimSpace(n) == "" {
			return rule, false, errors.New("an empty syscall name")
		}
	}
	switch {
	case r.Action == "":
		return rule, false, errors.New(`no "action"`)
	case !slices.Contains(seccompActions, r.Action):
		return rule, false, fmt.Errorf("action %q is not a seccomp action", r.Action)
	case r.Action == rspec.ActNotify && listener == "":
		return rule, false, errors.New(`SCMP_ACT_NOTIFY needs the profile's "listenerPath"`)
	case r.Action == rspec.ActNotify && slices.Contains(rule.Names, "write"):
		return rule, false, errors.New("SCMP_ACT_NOTIFY cannot be used for write")
	case r.ErrnoRet != nil && *r.ErrnoRet > maxErrno:
		return rule, false, fmt.Errorf("errnoRet %d is not an errno", *r.ErrnoRet)
	}
	for _, a := range r.Args {
		if a.Index > 5 {
			return rule, false, fmt.Errorf("argument index %d: syscalls have 6 arguments (0 to 5)", a.Index)
		}
		if !slices.Contains(seccompOperators, a.Op) {
			return rule, false, fmt.Errorf("argument %d: %q is not a seccomp operator", a.Index, a.Op)
		}
	}

	keep := true
	for _, c := range []struct {
		cond    *seccompCondition
		include bool
	}{{r.Includes, true}, {r.Excludes, false}} {
		if c.cond == nil {
			continue
		}
		holds, err := c.cond.holds(caps, host, c.include)
		if err != nil {
			return rule, false, err
		}
		if holds != c.include {
			keep = false
		}
	}
	return rule, keep, nil
}

// holds tells whether a condition is met: every part of an includes (all
// of its caps), any part of an excludes (any of its caps).
func (c *seccompCondition) holds(caps capSet, host seccompHost, all bool) (bool, error) {
	var parts []bool
	if len(c.Caps) > 0 {
		have := 0
		for _, cp := range c.Caps {
			if caps[seccompCapName(cp)] {
				have++
			}
		}
		parts = append(parts, all && have == len(c.Caps) || !all && have > 0)
	}
	if len(c.Arches) > 0 {
		parts = append(parts, slices.Contains(c.Arches, host.arch) ||
			len(host.arches) > 0 && slices.Contains(c.Arches, string(host.arches[0])))
	}
	if c.MinKernel != "" {
		min, err := parseMinKernel(c.MinKernel)
		if err != nil {
			return false, err
		}
		if !host.kernel.known() {
			return false, errors.New("minKernel: the host's kernel version is unknown")
		}
		parts = append(parts, host.kernel.atLeast(min))
	}
	if all {
		return !slices.Contains(parts, false), nil
	}
	return slices.Contains(parts, true), nil
}

// textPosition is the line and column of the byte at index in data.
func textPosition(data []byte, index int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < index && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
