package proc

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseNetDev(t *testing.T) {
	const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0: 1234567    890    3    0    0     0          0         0   765432     321    1    0    0     0       0          0
`
	got, err := parseNetDev(bufio.NewScanner(strings.NewReader(text)))
	if err != nil {
		t.Fatal(err)
	}
	want := []NetDev{
		{Name: "lo", RxBytes: 100, RxPackets: 2, TxBytes: 100, TxPackets: 2},
		{Name: "eth0", RxBytes: 1234567, RxPackets: 890, RxErrors: 3, TxBytes: 765432, TxPackets: 321, TxErrors: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if _, err := parseNetDev(bufio.NewScanner(strings.NewReader("a\nb\neth0: 1 2 3\n"))); err == nil {
		t.Error("a short line parsed")
	}
}

// This process's own namespace has at least its loopback.
func TestNetDevsOfSelf(t *testing.T) {
	devs, err := NetDevs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Name == "lo" {
			return
		}
	}
	t.Errorf("no lo among %+v", devs)
}
