package main

import (
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// webServer is what the nginx and httpd applets share: serve the files under
// root on every port, write the PID file once listening, log each request in
// the common log format to stdout, and stop on one of the stop signals.
type webServer struct {
	name    string // for messages
	ports   []int
	root    string
	pidFile string
	notice  string // printed to stderr once serving
}

func (s webServer) run(stop ...os.Signal) int {
	// Subscribe before anything can arrive, so a stop signal is never lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, append(stop, syscall.SIGCHLD)...)

	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for _, port := range s.ports {
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", s.name, err)
			return 1
		}
		listeners = append(listeners, l)
	}
	if err := os.WriteFile(s.pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", s.name, err)
		return 1
	}
	defer os.Remove(s.pidFile)

	handler := accessLog(log.New(os.Stdout, "", 0), http.FileServer(http.Dir(s.root)))
	for _, l := range listeners {
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: time.Minute}
		go func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(os.Stderr, "%s: %v\n", s.name, err)
			}
		}()
	}
	if s.notice != "" {
		fmt.Fprintln(os.Stderr, s.notice)
	}

	for sig := range sigs {
		if sig == syscall.SIGCHLD {
			reapChildren()
			continue
		}
		fmt.Fprintf(os.Stderr, "%s: got signal %v, exiting\n", s.name, sig)
		return 0
	}
	return 0
}

// statusRecorder remembers the status code and body size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// accessLog logs every request the way nginx's and Apache's default access
// logs do.
func accessLog(l *log.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, req)
		host, _, err := net.SplitHostPort(req.RemoteAddr)
		if err != nil {
			host = req.RemoteAddr
		}
		l.Printf("%s - - [%s] %q %d %d %q %q", host, time.Now().Format("02/Jan/2006:15:04:05 -0700"),
			req.Method+" "+req.RequestURI+" "+req.Proto, rec.status, rec.bytes, orDash(req.Referer()), orDash(req.UserAgent()))
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// listenPorts returns the ports of the `directive PORT` statements (nginx's
// "listen 80;", Apache's "Listen 80") in the configuration file path, or
// def when the file has none or does not exist. A value may carry an address
// ("0.0.0.0:80", "[::]:80"); anything after it (nginx's "default_server") is
// ignored.
func listenPorts(path, directive string, def int) ([]int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return []int{def}, nil
	} else if err != nil {
		return nil, err
	}
	var words []string
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		words = append(words, strings.FieldsFunc(line, func(r rune) bool {
			return r == ' ' || r == '\t' || r == '\r' || r == ';' || r == '{' || r == '}'
		})...)
	}
	var ports []int
	seen := map[int]bool{}
	for i := 0; i+1 < len(words); i++ {
		if !strings.EqualFold(words[i], directive) {
			continue
		}
		value := words[i+1]
		if j := strings.LastIndex(value, ":"); j >= 0 {
			value = value[j+1:]
		}
		port, err := strconv.Atoi(value)
		if err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("%s: bad %s value %q", path, directive, words[i+1])
		}
		if !seen[port] {
			seen[port] = true
			ports = append(ports, port)
		}
	}
	if len(ports) == 0 {
		ports = []int{def}
	}
	return ports, nil
}
