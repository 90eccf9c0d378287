//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/harness"
)

// TestDroppedStreamingSessionsLeaveNothing opens 200 exec, attach and
// port-forward sessions with the real crictl and kills each client with
// SIGKILL mid-session. berth's goroutines and fds must come back to their
// baseline, and no exec'd process may survive its client.
func TestDroppedStreamingSessionsLeaveNothing(t *testing.T) {
	metrics := harness.FreeAddr(t)
	f := newContainerFixture(t, "berth-it-stream", "berthitstream", "10.124.10.0/24", fmt.Sprintf("metrics_address = %q", metrics))
	b := f.b
	crictl := harness.Crictl(t)
	p := f.runPod(t, "streams", nil)
	cid := runContainer(t, b, p, containerConfig("ticker", "sh", "-c", "while true; do echo tick; sleep 1; done"))

	// One client session; kill it once it is under way.
	session := func(kind int) {
		var args []string
		switch kind {
		case 0:
			args = []string{"exec", cid, "sleep", "7777"}
		case 1:
			args = []string{"attach", cid}
		default:
			args = []string{"port-forward", p.id, "0:8080"}
		}
		cmd := exec.Command(crictl, append([]string{"--runtime-endpoint", "unix://" + b.Socket, "--timeout", "20s"}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Error(err)
			return
		}
		if kind == 0 {
			// Until its command runs in the container.
			waitForSession(t, func() bool { return len(sleepers()) > 0 })
		} else {
			time.Sleep(300 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	gauges := func() (goroutines float64, fds int) {
		g, err := harness.Metric(metrics, "go_goroutines")
		if err != nil {
			t.Fatal(err)
		}
		open, err := b.OpenFDs()
		if err != nil {
			t.Fatal(err)
		}
		return g, len(open)
	}

	for kind := range 3 { // warm up: lazily started goroutines count as baseline
		session(kind)
	}
	waitFor(t, 30*time.Second, func() bool { return len(sleepers()) == 0 })
	time.Sleep(time.Second)
	baseG, baseFDs := gauges()

	const sessions, parallel = 200, 8
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallel)
	for i := range sessions {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			session(i % 3)
		}()
	}
	wg.Wait()

	var g float64
	var fds int
	deadline := time.Now().Add(30 * time.Second)
	for {
		g, fds = gauges()
		left := sleepers()
		if len(left) == 0 && g <= baseG+5 && fds <= baseFDs+2 {
			break
		}
		if time.Now().After(deadline) {
			open, _ := b.OpenFDs()
			t.Fatalf("after %d dropped sessions: exec'd processes left %v; goroutines %v (baseline %v); fds %d (baseline %d): %v",
				sessions, left, g, baseG, fds, baseFDs, open)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("after %d dropped sessions: goroutines %v (baseline %v), fds %d (baseline %d)", sessions, g, baseG, fds, baseFDs)

	removeContainer(t, b, cid)
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// waitForSession polls cond for up to 10 s (a slow client is not an error
// of berth's; the check after all sessions is what counts).
func waitForSession(t *testing.T, cond func() bool) {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// sleepers lists the host pids of exec'd `sleep 7777` commands.
func sleepers() []string {
	var pids []string
	matches, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err == nil && string(data) == "sleep\x007777\x00" {
			pids = append(pids, strings.TrimSuffix(strings.TrimPrefix(m, "/proc/"), "/cmdline"))
		}
	}
	return pids
}
