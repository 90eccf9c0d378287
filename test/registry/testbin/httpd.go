package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// httpdMain stands in for `httpd -DFOREGROUND` in the httpd image. It serves
// SERVERROOT/htdocs over HTTP on the ports of the "Listen" lines of
// SERVERROOT/conf/httpd.conf (80 without any), writes its PID to
// SERVERROOT/logs/httpd.pid, says on stderr that httpd is running (critest
// looks for "httpd" in the container log) and exits 0 on SIGTERM, SIGINT or
// SIGWINCH (Apache's graceful stop).
//
// Options: -d SERVERROOT (default /usr/local/apache2), -f CONFIG (instead of
// conf/httpd.conf), -DNAME (ignored).
func httpdMain(args []string) int {
	root, conf := "/usr/local/apache2", ""
	for i := 0; i < len(args); i++ {
		opt, val := args[i], ""
		if i+1 < len(args) {
			val = args[i+1]
		}
		switch {
		case opt == "-d":
			root = val
			i++
		case opt == "-f":
			conf = val
			i++
		case strings.HasPrefix(opt, "-D"):
		default:
			fmt.Fprintf(os.Stderr, "httpd: unsupported option %q (have -d -f -D)\n", opt)
			return 1
		}
	}
	if conf == "" {
		conf = filepath.Join(root, "conf/httpd.conf")
	}
	ports, err := listenPorts(conf, "Listen", 80)
	if err != nil {
		fmt.Fprintf(os.Stderr, "httpd: %v\n", err)
		return 1
	}
	return webServer{
		name:    "httpd",
		ports:   ports,
		root:    filepath.Join(root, "htdocs"),
		pidFile: filepath.Join(root, "logs/httpd.pid"),
		notice:  fmt.Sprintf("httpd (berth testbin) pid %d: serving on port(s) %v -- resuming normal operations", os.Getpid(), ports),
	}.run(syscall.SIGTERM, syscall.SIGINT, syscall.SIGWINCH)
}
