package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// nginxTitle starts nginx's master process title, which critest looks for
// in /proc/1/cmdline ("master process").
const nginxTitle = "nginx: master process "

// nginxMain stands in for `nginx -g "daemon off;"` in the nginx images.
//
// First it re-executes itself, keeping its PID, with argv[0] set to the
// title real nginx gives its master process ("nginx: master process nginx -g
// daemon off;"); the executable keeps its file name, so /proc/PID/comm stays
// "nginx" for pidof. Then it serves PREFIX/usr/share/nginx/html over HTTP on
// the ports of the "listen" lines of PREFIX/etc/nginx/conf.d/default.conf (80
// without any), writes its PID to PREFIX/var/run/nginx.pid and exits 0 on
// SIGTERM, SIGINT or SIGQUIT.
//
// Options: -p PREFIX (default "/"), -c CONFIG (a configuration file instead
// of conf.d/default.conf), -g DIRECTIVES (ignored).
func nginxMain(args []string) int {
	if !strings.HasPrefix(os.Args[0], nginxTitle) {
		exe, err := os.Executable()
		if err == nil {
			argv := append([]string{nginxTitle + strings.Join(os.Args, " ")}, args...)
			err = syscall.Exec(exe, argv, os.Environ())
		}
		// Still here: serve anyway, only the process title is wrong.
		fmt.Fprintf(os.Stderr, "nginx: cannot re-execute to set the process title: %v\n", err)
	}

	prefix, conf := "/", ""
	for i := 0; i < len(args); i++ {
		opt, val := args[i], ""
		if i+1 < len(args) {
			val = args[i+1]
		}
		switch opt {
		case "-p":
			prefix = val
		case "-c":
			conf = val
		case "-g":
		default:
			fmt.Fprintf(os.Stderr, "nginx: unsupported option %q (have -p -c -g)\n", opt)
			return 1
		}
		i++
	}
	if conf == "" {
		conf = filepath.Join(prefix, "etc/nginx/conf.d/default.conf")
	}
	ports, err := listenPorts(conf, "listen", 80)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nginx: %v\n", err)
		return 1
	}
	return webServer{
		name:    "nginx",
		ports:   ports,
		root:    filepath.Join(prefix, "usr/share/nginx/html"),
		pidFile: filepath.Join(prefix, "var/run/nginx.pid"),
		notice:  fmt.Sprintf("nginx (berth testbin): master process %d serving on port(s) %v", os.Getpid(), ports),
	}.run(syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
}
