package conmon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/metrics"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/sys/unix"
)

func TestReadExit(t *testing.T) {
	m := &Monitor{ExitDir: t.TempDir()}
	persist := t.TempDir()
	if _, ok := m.ReadExit("c1", persist); ok {
		t.Fatal("exit read before conmon wrote it")
	}
	// conmon may be caught halfway through writing the file.
	write := func(content string) {
		if err := os.WriteFile(filepath.Join(m.ExitDir, "c1"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	if _, ok := m.ReadExit("c1", persist); ok {
		t.Fatal("an empty exit file must not count as an exit")
	}
	write("137")
	e, ok := m.ReadExit("c1", persist)
	if !ok || e.Code != 137 || e.OOMKilled || time.Since(e.FinishedAt) > time.Minute {
		t.Fatalf("ReadExit = %+v, %v; want code 137, not OOM, finished now", e, ok)
	}
	if err := os.WriteFile(filepath.Join(persist, "oom"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if e, _ := m.ReadExit("c1", persist); !e.OOMKilled {
		t.Fatal("the oom file conmon writes must mark the exit OOMKilled")
	}
	if err := m.RemoveExit("c1"); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveExit("c1"); err != nil {
		t.Fatalf("removing a missing exit file: %v", err)
	}
}

func TestCtlMessages(t *testing.T) {
	bundle := t.TempDir()
	if err := ReopenLog(bundle); err == nil {
		t.Fatal("writing a missing ctl fifo must fail, not block")
	}
	fifo := filepath.Join(bundle, "ctl")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ReopenLog(bundle); err == nil {
		t.Fatal("writing a ctl fifo nobody reads must fail, not block")
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := ReopenLog(bundle); err != nil {
		t.Fatal(err)
	}
	if err := Resize(bundle, 80, 24); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := r.Read(buf)
	if got, want := string(buf[:n]), "2 0 0\n1 24 80\n"; got != want {
		t.Fatalf("ctl fifo got %q, want %q (type, height, width)", got, want)
	}
}

func TestConmonLevel(t *testing.T) {
	for in, want := range map[string]string{"trace": "debug", "debug": "debug", "info": "info", "warn": "warn", "error": "error", "panic": "error"} {
		if got := conmonLevel(in); got != want {
			t.Errorf("conmonLevel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRuntimeMessage(t *testing.T) {
	in := `time="2026-11-23T16:32:54Z" level=error msg="runc create failed: open \"/dev/mqueue\": no such file"`
	if got, want := runtimeMessage(in), `runc create failed: open "/dev/mqueue": no such file`; got != want {
		t.Fatalf("runtimeMessage = %q, want %q", got, want)
	}
	if got := runtimeMessage("  plain error\n"); got != "plain error" {
		t.Fatalf("runtimeMessage of a plain line = %q", got)
	}
}

func TestIsMonitorOf(t *testing.T) {
	id := "0123abcd"
	tests := []struct {
		cmdline string
		want    bool
	}{
		{"/usr/bin/conmon\x00--api-version\x001\x00-c\x00" + id + "\x00-u\x00" + id + "\x00", true},
		{"conmon\x00-c\x00" + id + "\x00", true},
		{"/usr/bin/conmon\x00-c\x00other\x00-u\x00" + id + "\x00", false}, // another container's
		{"/bin/sleep\x00-c\x00" + id + "\x00", false},                     // not conmon: a reused pid
		{"/usr/bin/conmon\x00-c\x00", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isMonitorOf([]byte(tt.cmdline), "/usr/bin/conmon", id); got != tt.want {
			t.Errorf("isMonitorOf(%q) = %v, want %v", tt.cmdline, got, tt.want)
		}
	}
}

// A conmon whose first process never daemonizes is killed after a bound,
// and Create fails, instead of the create waiting forever.
func TestCreateKillsAConmonThatNeverDaemonizes(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "first.pid")
	fake := filepath.Join(dir, "conmon")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho $$ >"+pidFile+"\nexec sleep 3600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	defer func(old time.Duration) { firstProcessTimeout = old }(firstProcessTimeout)
	firstProcessTimeout = 300 * time.Millisecond
	m := &Monitor{Path: fake, ExitDir: filepath.Join(dir, "exits"), SocketDir: filepath.Join(dir, "attach")}
	before := testutil.ToFloat64(metrics.MonitorFailures)
	_, err := m.Create(context.Background(), CreateOptions{ID: "ctr1", Name: "ctr1", Bundle: dir, PersistDir: dir, LogPath: filepath.Join(dir, "log")})
	if err == nil || !strings.Contains(err.Error(), "did not daemonize") {
		t.Fatalf("Create = %v, want conmon killed for not daemonizing", err)
	}
	if got := testutil.ToFloat64(metrics.MonitorFailures) - before; got != 1 {
		t.Errorf("berth_conmon_failures_total rose by %v, want 1", got)
	}
	pid, err := proc.ReadPidFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("conmon's first process %d still exists (kill 0: %v)", pid, err)
	}
}

// TestSocketDirLinkOfConmonsLength: when "<socket dir>/<id>" is 107 bytes,
// conmon names its link one byte shorter; berth finds and removes that one.
func TestSocketDirLinkOfConmonsLength(t *testing.T) {
	const conmonPath = "/usr/bin/conmon"
	if _, err := os.Stat(conmonPath); err != nil {
		t.Skipf("conmon is not installed (%v): make deps installs it", err)
	}
	// A short dir of its own: t.TempDir's names are too long here.
	dir, err := os.MkdirTemp("/tmp", "b")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	id := strings.Repeat("c", 64)
	pad := sunPathMax - 1 - len(dir) - 2 - len(id) // two slashes
	socketDir := filepath.Join(dir, strings.Repeat("s", pad))
	if got := len(filepath.Join(socketDir, id)); got != sunPathMax-1 {
		t.Fatalf("built a link path of %d bytes, want %d", got, sunPathMax-1)
	}
	// A runtime whose create fails: conmon has made the link by then.
	runtime := filepath.Join(dir, "runtime")
	if err := os.WriteFile(runtime, []byte("#!/bin/sh\necho no >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundle")
	for _, d := range []string{bundle, socketDir, filepath.Join(dir, "exits")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	m := &Monitor{Path: conmonPath, ExitDir: filepath.Join(dir, "exits"), SocketDir: socketDir}
	if _, err := m.Create(context.Background(), CreateOptions{ID: id, Name: "ctr", Bundle: bundle, PersistDir: bundle, LogPath: filepath.Join(dir, "log"), RuntimePath: runtime}); err == nil {
		t.Fatal("Create succeeded with a runtime that fails")
	}
	if _, err := os.Lstat(m.attachLink(id)); err != nil {
		t.Fatalf("conmon's link is not where berth looks: %v", err)
	}
	if err := m.RemoveSocketDir(id); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(socketDir); len(left) != 0 {
		t.Fatalf("left in the socket dir: %v", left)
	}
}
