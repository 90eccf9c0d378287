package oci

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// restrictOOM is runtime.restrict_oom_score_adj: clamp, or pass values
// through as asked (and let the runtime fail where the host forbids them).
var restrictOOM atomic.Bool

func init() { restrictOOM.Store(true) }

// RestrictOOMScoreAdj sets whether ClampOOMScoreAdj clamps.
func RestrictOOMScoreAdj(on bool) { restrictOOM.Store(on) }

var oomFloor = sync.OnceValue(func() int {
	if hasCapability(unix.CAP_SYS_RESOURCE) {
		return -1000
	}
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	logrus.WithField("oom_score_adj", v).Info("no CAP_SYS_RESOURCE: OOM score adjustments below berth's own are raised to it")
	return v
})

// ClampOOMScoreAdj returns the lowest OOM score adjustment at or above want
// that the runtime may set. Lowering the score below berth's own takes
// CAP_SYS_RESOURCE; without it a spec asking for less makes the runtime fail,
// so berth raises the value instead (as containerd's restrict_oom_score_adj).
func ClampOOMScoreAdj(want int) int {
	if !restrictOOM.Load() {
		return want
	}
	return max(want, oomFloor())
}

// hasCapability reads the effective capability set of berth itself.
func hasCapability(c int) bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			v, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && v&(1<<uint(c)) != 0
		}
	}
	return false
}
