package main

import (
	"fmt"
	"os"
	"strings"
)

// sysctlMain stands in for busybox's sysctl (not in Debian's build) as the
// node e2e suite uses it: `/bin/sysctl NAME...` prints "NAME = VALUE" with
// NAME dot-separated, whether it was given with dots or slashes
// ("kernel/shm_rmid_forced"), as procps and busybox print it.
func sysctlMain(args []string) int {
	status := 0
	for _, arg := range args {
		if strings.HasPrefix(arg, "-") {
			continue // -a, -n, -w: not used by the suite
		}
		key, path := sysctlPath(arg)
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sysctl: error reading key '%s': %v\n", key, err)
			status = 1
			continue
		}
		fmt.Printf("%s = %s\n", key, strings.TrimRight(string(data), "\n"))
	}
	return status
}

// sysctlPath returns the dotted name and the /proc/sys file of a sysctl
// given with dots, or with slashes (where a dot is part of a name, as in
// net/ipv4/conf/eth0.1/forwarding).
func sysctlPath(name string) (key, path string) {
	if strings.Contains(name, "/") {
		name = strings.Trim(name, "/")
		parts := strings.Split(name, "/")
		return strings.Join(parts, "."), "/proc/sys/" + name
	}
	return name, "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
}
