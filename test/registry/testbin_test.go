package registry

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// applet installs the testbin program in a temporary directory under the
// applet's name and returns its path.
func applet(t *testing.T, name string) string {
	t.Helper()
	bin, err := Testbin()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs an applet and returns its stdout, stderr and exit code.
func run(t *testing.T, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(applet(t, name), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

func TestTestbinIsStatic(t *testing.T) {
	bin, err := Testbin()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(bin, []byte("\x7fELF")) {
		t.Fatal("testbin is not an ELF file")
	}
	if bytes.Contains(bin, []byte("ld-linux")) {
		t.Error("testbin names a dynamic loader; it must be static")
	}
	if _, stderr, code := run(t, "nonsense"); code != 127 || !strings.Contains(stderr, "unknown applet") {
		t.Errorf("unknown applet: exit %d, stderr %q", code, stderr)
	}
	if stdout, _, code := run(t, "testbin", "nnp"); code != 0 || !strings.HasPrefix(stdout, "Effective uid: ") {
		t.Errorf("testbin nnp: exit %d, stdout %q", code, stdout)
	}
}

func TestNnp(t *testing.T) {
	stdout, stderr, code := run(t, "nnp")
	if want := fmt.Sprintf("Effective uid: %d\n", os.Geteuid()); stdout != want || stderr != "" || code != 0 {
		t.Errorf("nnp: stdout %q, stderr %q, exit %d; want %q", stdout, stderr, code, want)
	}
}

func TestPgrep(t *testing.T) {
	sleepPath, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	sleepBin, err := os.ReadFile(sleepPath)
	if err != nil {
		t.Fatal(err)
	}
	// A process with a name nothing else has (at most 15 characters).
	name := fmt.Sprintf("brtslp%d", os.Getpid()%1000000)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, sleepBin, 0o755); err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command(p, "3600")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sleeper.Process.Kill()
		sleeper.Wait()
	}()
	pid := strconv.Itoa(sleeper.Process.Pid)

	for _, args := range [][]string{{name}, {"^brtslp[0-9]+$"}, {"-x", name}, {"-f", name + " 3600$"}} {
		if stdout, stderr, code := run(t, "pgrep", args...); stdout != pid+"\n" || stderr != "" || code != 0 {
			t.Errorf("pgrep %q: stdout %q, stderr %q, exit %d; want %q", args, stdout, stderr, code, pid+"\n")
		}
	}
	// critest: `sh -c "pgrep sleep || true"` must print nothing once the
	// exec'd sleep is gone: no match prints nothing and exits 1.
	for _, args := range [][]string{{"-x", "brtslp"}, {name + "x"}} {
		if stdout, _, code := run(t, "pgrep", args...); stdout != "" || code != 1 {
			t.Errorf("pgrep %q: stdout %q, exit %d; want nothing and 1", args, stdout, code)
		}
	}
	if _, _, code := run(t, "pgrep"); code != 2 {
		t.Errorf("pgrep without a pattern: exit %d, want 2", code)
	}

	// It never lists itself.
	cmd := exec.Command(applet(t, "pgrep"), "-x", "pgrep")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	for _, line := range strings.Fields(out.String()) {
		if line == strconv.Itoa(cmd.Process.Pid) {
			t.Errorf("pgrep -x pgrep listed itself: %q", out.String())
		}
	}
}

func TestIpcs(t *testing.T) {
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, 1048576, unix.IPC_CREAT|0o640)
	if err != nil {
		t.Fatalf("creating a shared memory segment: %v", err)
	}
	defer unix.SysvShmCtl(id, unix.IPC_RMID, nil)

	// critest: `ipcs -m` must show the segment ipcmk made on the host.
	stdout, stderr, code := run(t, "ipcs", "-m")
	if code != 0 || stderr != "" {
		t.Fatalf("ipcs -m: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "------ Shared Memory Segments --------\nkey        shmid      owner      perms      bytes      nattch     status") {
		t.Errorf("ipcs -m: no heading in\n%s", stdout)
	}
	if strings.Contains(stdout, "Message Queues") || strings.Contains(stdout, "Semaphore Arrays") {
		t.Errorf("ipcs -m shows more than shared memory:\n%s", stdout)
	}
	found := false
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[1] == strconv.Itoa(id) {
			found = true
			if !strings.HasPrefix(f[0], "0x") || f[3] != "640" || f[4] != "1048576" || f[5] != "0" {
				t.Errorf("ipcs -m: segment line %q; want key 0x..., perms 640, 1048576 bytes, 0 attached", line)
			}
		}
	}
	if !found {
		t.Errorf("ipcs -m does not list segment %d:\n%s", id, stdout)
	}

	stdout, _, code = run(t, "ipcs")
	for _, title := range []string{"Message Queues", "Shared Memory Segments", "Semaphore Arrays"} {
		if code != 0 || !strings.Contains(stdout, "------ "+title+" --------") {
			t.Errorf("ipcs: exit %d, no %s in\n%s", code, title, stdout)
		}
	}
	if _, _, code := run(t, "ipcs", "-z"); code != 1 {
		t.Errorf("ipcs -z: exit %d, want 1", code)
	}
}

// started is a running applet whose stdout and stderr are collected.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	exited         chan struct{} // closed once cmd.Wait returned waitErr
	waitErr        error
}

// syncBuffer is a bytes.Buffer safe for a writer and readers at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func start(t *testing.T, bin string, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(bin, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("%s: stdout %q, stderr %q", filepath.Base(bin), s.stdout.String(), s.stderr.String())
		}
	})
	return s
}

// stop sends sig and returns the exit code.
func (s *started) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10s after %v", sig)
	}
	if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Errorf("killed by %v", ws.Signal())
	}
	return s.cmd.ProcessState.ExitCode()
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestPause(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		p := start(t, applet(t, "pause"))
		// The warning comes after the signal handlers are in place.
		waitFor(t, "pause to start", func() bool { return strings.Contains(p.stderr.String(), "first process") })
		if code := p.stop(t, sig); code != 0 {
			t.Errorf("pause exited %d on %v, want 0", code, sig)
		}
		if !strings.Contains(p.stderr.String(), "Shutting down") {
			t.Errorf("pause on %v: stderr %q", sig, p.stderr.String())
		}
	}

	// A child left behind (the shell execs pause after starting it) is reaped.
	sh := start(t, "/bin/sh", "-c", `sleep 0.2 & echo $!; exec "$0"`, applet(t, "pause"))
	waitFor(t, "the orphan's pid", func() bool { return strings.HasSuffix(sh.stdout.String(), "\n") })
	orphan := strings.TrimSpace(sh.stdout.String())
	waitFor(t, "pause to reap "+orphan, func() bool {
		_, err := os.Stat("/proc/" + orphan)
		return os.IsNotExist(err)
	})
	if code := sh.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("pause exited %d, want 0", code)
	}
}

// freePort returns a TCP port nothing listens on just now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func readPidFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

func TestNginx(t *testing.T) {
	prefix := t.TempDir()
	port := freePort(t)
	writeFiles(t, prefix, map[string]string{
		"etc/nginx/conf.d/default.conf":   fmt.Sprintf(nginxDefaultConf, port) + fmt.Sprintf("server { listen [::]:%d default_server; } # listen 1;\n", port),
		"usr/share/nginx/html/index.html": nginxIndex,
		"var/run/":                        "",
	})
	n := start(t, applet(t, "nginx"), "-p", prefix, "-g", "daemon off;")
	pid := strconv.Itoa(n.cmd.Process.Pid)
	pidFile := filepath.Join(prefix, "var/run/nginx.pid")

	// critest: `cat /var/run/nginx.pid` gives the master's PID.
	waitFor(t, "nginx.pid", func() bool { return readPidFile(pidFile) != "" })
	if got := readPidFile(pidFile); got != pid+"\n" {
		t.Errorf("nginx.pid holds %q, want %q", got, pid+"\n")
	}
	// critest: /proc/1/cmdline shows "master process"; pidof finds "nginx".
	cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline")
	if err != nil || !strings.HasPrefix(string(cmdline), "nginx: master process ") || !strings.Contains(string(cmdline), "master process") {
		t.Errorf("cmdline %q (%v), want the master process title", cmdline, err)
	}
	if comm, err := os.ReadFile("/proc/" + pid + "/comm"); err != nil || string(comm) != "nginx\n" {
		t.Errorf("comm %q (%v), want nginx", comm, err)
	}

	status, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	if status != http.StatusOK || !strings.Contains(body, "Welcome to nginx!") {
		t.Errorf("GET /: %d %q", status, body)
	}
	if status, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/nothing-here", port)); status != http.StatusNotFound {
		t.Errorf("GET /nothing-here: %d, want 404", status)
	}
	waitFor(t, "the access log", func() bool { return strings.Contains(n.stdout.String(), `"GET / HTTP/1.1" 200 `) })

	if code := n.stop(t, syscall.SIGQUIT); code != 0 {
		t.Errorf("nginx exited %d on SIGQUIT, want 0; stderr %q", code, n.stderr.String())
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("nginx.pid left behind: %v", err)
	}
}

func TestHttpd(t *testing.T) {
	root := t.TempDir()
	port := freePort(t)
	writeFiles(t, root, map[string]string{
		"conf/httpd.conf":   fmt.Sprintf("ServerRoot %q\n# Listen 1\nListen %d\n", root, port),
		"htdocs/index.html": "<html><body><h1>It works!</h1></body></html>\n",
		"logs/":             "",
	})
	h := start(t, applet(t, "httpd"), "-d", root, "-DFOREGROUND")
	waitFor(t, "httpd.pid", func() bool { return readPidFile(filepath.Join(root, "logs/httpd.pid")) != "" })

	status, body := get(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	if status != http.StatusOK || !strings.Contains(body, "It works!") {
		t.Errorf("GET /: %d %q", status, body)
	}
	// critest looks for "httpd" in the container log.
	waitFor(t, "a line with 'httpd' on stderr", func() bool { return strings.Contains(h.stderr.String(), "httpd") })
	if code := h.stop(t, syscall.SIGWINCH); code != 0 {
		t.Errorf("httpd exited %d on SIGWINCH, want 0; stderr %q", code, h.stderr.String())
	}
}
