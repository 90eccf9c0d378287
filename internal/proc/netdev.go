package proc

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// NetDev is one interface's counters from /proc/<pid>/net/dev.
type NetDev struct {
	Name                         string
	RxBytes, RxPackets, RxErrors uint64
	TxBytes, TxPackets, TxErrors uint64
}

// NetDevs reads the interface counters of the network namespace process
// pid is in: its /proc/<pid>/net/dev, no setns needed.
func NetDevs(pid int) ([]NetDev, error) {
	return readNetDev(fmt.Sprintf("/proc/%d/net/dev", pid))
}

// ThreadNetDevs reads the interface counters of the network namespace the
// calling thread is in (one that joined a namespace with setns, locked to
// its goroutine: /proc/self would read the main thread's).
func ThreadNetDevs() ([]NetDev, error) {
	return readNetDev("/proc/thread-self/net/dev")
}

func readNetDev(path string) ([]NetDev, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseNetDev(bufio.NewScanner(f))
}

// parseNetDev reads net/dev: two header lines, then
// "  eth0: rxbytes rxpackets rxerrs rxdrop ... txbytes txpackets txerrs ...".
func parseNetDev(sc *bufio.Scanner) ([]NetDev, error) {
	var out []NetDev
	for line := 0; sc.Scan(); line++ {
		if line < 2 {
			continue
		}
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			return nil, fmt.Errorf("net/dev line for %s has %d fields, want 16", strings.TrimSpace(name), len(f))
		}
		n := make([]uint64, 16)
		for i := range n {
			v, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("net/dev field %d of %s: %w", i, strings.TrimSpace(name), err)
			}
			n[i] = v
		}
		out = append(out, NetDev{
			Name:    strings.TrimSpace(name),
			RxBytes: n[0], RxPackets: n[1], RxErrors: n[2],
			TxBytes: n[8], TxPackets: n[9], TxErrors: n[10],
		})
	}
	return out, sc.Err()
}
