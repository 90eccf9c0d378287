package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// pgrepMain implements `pgrep [-f] [-x] PATTERN`: it prints, one per line,
// the IDs of the processes whose name (/proc/PID/comm) matches the extended
// regular expression PATTERN, never its own. -f matches the whole command
// line instead, -x requires the whole name to match. It exits 0 when
// something matched, 1 when nothing did and 2 on a usage error, like procps.
func pgrepMain(args []string) int {
	fs := flag.NewFlagSet("pgrep", flag.ContinueOnError)
	full := fs.Bool("f", false, "match against the full command line")
	exact := fs.Bool("x", false, "require an exact match")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pgrep [-f] [-x] PATTERN")
		return 2
	}
	pattern := fs.Arg(0)
	if *exact {
		pattern = "^(?:" + pattern + ")$"
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgrep: %v\n", err)
		return 2
	}

	entries, err := os.ReadDir("/proc")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgrep: %v\n", err)
		return 3
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		name, ok := procName(pid, *full)
		if ok && re.MatchString(name) {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	for _, pid := range pids {
		fmt.Println(pid)
	}
	if len(pids) == 0 {
		return 1
	}
	return 0
}

// procName returns the name of process pid, or its command line (arguments
// joined by spaces) when full is set and the process has one. ok is false
// when the process is gone.
func procName(pid int, full bool) (name string, ok bool) {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if full {
		if b, err := os.ReadFile(dir + "cmdline"); err == nil && len(b) > 0 {
			return strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " "), true
		}
	}
	b, err := os.ReadFile(dir + "comm")
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(string(b), "\n"), true
}
