// Command testbin is a small static multi-call program that fills the gaps
// left by Debian's busybox in berth's critest images. It chooses what to do
// from the base name of argv[0], like busybox:
//
//	pgrep   find processes by name (critest: `sh -c "pgrep sleep || true"`)
//	ipcs    list System V IPC objects from /proc/sysvipc (critest: `ipcs -m`)
//	nmeter  time of day with milliseconds (node e2e: `nmeter -d0 %3t`)
//	nnp     print the effective uid; installed setuid root (NoNewPrivs specs)
//	nginx   web server standing in for nginx (networking, streaming, PID specs)
//	httpd   web server standing in for Apache httpd (Multiple Containers specs)
//	sysctl  print kernel parameters (node e2e: `/bin/sysctl kernel.shm_rmid_forced`)
//	pause   pod infra process: waits for SIGINT/SIGTERM, reaps zombies
//
// `testbin APPLET [ARGS...]` runs an applet regardless of argv[0].
//
// It must build with CGO_ENABLED=0 and use nothing but the standard library.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

var applets = map[string]func(args []string) int{
	"httpd":  httpdMain,
	"ipcs":   ipcsMain,
	"nginx":  nginxMain,
	"nmeter": nmeterMain,
	"nnp":    nnpMain,
	"pause":  pauseMain,
	"pgrep":  pgrepMain,
	"sysctl": sysctlMain,
}

func main() {
	name := appletName(os.Args[0])
	if name == "testbin" && len(os.Args) > 1 {
		os.Args = os.Args[1:]
		name = appletName(os.Args[0])
	}
	run, ok := applets[name]
	if !ok {
		names := make([]string, 0, len(applets))
		for n := range applets {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "testbin: unknown applet %q; applets: %s\n", name, strings.Join(names, " "))
		os.Exit(127)
	}
	os.Exit(run(os.Args[1:]))
}

// appletName returns the applet argv0 asks for: its base name, or nginx for
// the process title the nginx applet gives itself.
func appletName(argv0 string) string {
	if strings.HasPrefix(argv0, nginxTitle) {
		return "nginx"
	}
	return filepath.Base(argv0)
}
