//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/harness"
)

// TestDroppedStreamingSessionsLeaveNothing opens 200 exec, attach and
// port-forward sessions with the real crictl; each first proves it works
// (output through exec and attach, an HTTP reply through the forward) and
// is then dropped: its client is killed with SIGKILL. berth's goroutines
// and fds must come back to their baseline, and no exec'd process may
// survive its client.
func TestDroppedStreamingSessionsLeaveNothing(t *testing.T) {
	metrics := harness.FreeAddr(t)
	f := newContainerFixture(t, "berth-it-stream", "berthitstream", "10.124.10.0/24", fmt.Sprintf("metrics_address = %q", metrics))
	b := f.b
	crictl := harness.Crictl(t)
	p := f.runPod(t, "streams", nil)
	cid := runContainer(t, b, p, containerConfig("ticker", "sh", "-c", "while true; do echo tick; sleep 1; done"))
	// This run's own sleep argument: the exec'd commands are found by it.
	sleepArg = strconv.Itoa(100000 + rand.IntN(900000))
	page := "hello-" + sleepArg
	web := runContainer(t, b, p, containerConfig("web", "sh", "-c",
		"mkdir -p /www && echo "+page+" > /www/index.html && exec httpd -f -p 8080 -h /www"))

	// One client session: it must work, then it is dropped.
	session := func(kind int) {
		var args []string
		var works func(line string) bool
		switch kind {
		case 0:
			args = []string{"exec", cid, "sh", "-c", "echo ready; exec sleep " + sleepArg}
			// Its output came through, and its command runs in the container.
			works = func(line string) bool {
				return line == "ready" && eventually(10*time.Second, func() bool { return len(sleepers()) > 0 })
			}
		case 1:
			args = []string{"attach", cid}
			works = func(line string) bool { return line == "tick" }
		default:
			args = []string{"port-forward", p.id, "0:8080"}
			works = func(line string) bool { return forwardServes(t, line, page) }
		}
		cmd := exec.Command(crictl, append([]string{"--runtime-endpoint", "unix://" + b.Socket, "--timeout", "20s"}, args...)...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Error(err)
			return
		}
		if err := cmd.Start(); err != nil {
			t.Error(err)
			return
		}
		defer func() {
			cmd.Process.Kill()
			cmd.Wait()
		}()
		if !sessionWorks(out, works) {
			t.Errorf("crictl %s never worked (no output, or no reply through it)", strings.Join(args, " "))
		}
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
	removeContainer(t, b, web)
	removePod(t, b, p.id)
	f.assertAllClean(t, []testPod{p})
}

// sessionWorks reads a client's output lines until works says one shows
// the session working, for up to 15 s.
func sessionWorks(out io.Reader, works func(line string) bool) bool {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
	}()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return false
			}
			if works(line) {
				go func() {
					for range lines { // drain until the client is killed
					}
				}()
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// forwardServes reads crictl port-forward's "Forwarding from
// 127.0.0.1:PORT -> 8080" line and fetches page through that port.
func forwardServes(t *testing.T, line, page string) bool {
	addr, ok := strings.CutPrefix(line, "Forwarding from ")
	if !ok || !strings.HasPrefix(addr, "127.0.0.1:") {
		return false
	}
	addr, _, _ = strings.Cut(addr, " ")
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Logf("GET through the forward %s: %v", addr, err)
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == page
}

// sleepArg is the argument of this run's exec'd sleep commands.
var sleepArg string

// sleepers lists the host pids of this run's exec'd sleep commands.
func sleepers() []string { return pgrepFull("sleep " + sleepArg) }
