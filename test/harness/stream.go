package harness

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Crictl returns the crictl binary built by `make tools` ($BERTH_CRICTL
// overrides it): streaming tests drive berth with the real client.
func Crictl(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BERTH_CRICTL"); p != "" {
		return p
	}
	p, err := filepath.Abs("../../_output/bin/crictl")
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("crictl not found (%v): run `make tools` or set BERTH_CRICTL", err)
	return ""
}

// FreeAddr returns a 127.0.0.1 address with a port free right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Metric reads one metric from a daemon's Prometheus endpoint at addr:
// an unlabelled one (go_goroutines) or one series, its labels written as
// the endpoint writes them (berth_pods{state="ready"}).
//
// The body is read to its end, so the one keep-alive connection serves
// every scrape: a count of the daemon's fds sees it before and after alike,
// not a connection of each scrape still closing.
func Metric(addr, name string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	defer io.Copy(io.Discard, resp.Body)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}
