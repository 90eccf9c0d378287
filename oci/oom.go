package oci

import (
	"os"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// MinOOMScoreAdj is the lowest OOM score adjustment a runtime started by
// berth may set, read once at start-up. Lowering the score below berth's
// own takes CAP_SYS_RESOURCE; without it a spec asking for less makes the
// runtime fail, so with restrict (runtime.restrict_oom_score_adj, as
// containerd's) berth raises such asks to its own score. Without restrict
// every value passes through as asked (-1000).
func MinOOMScoreAdj(restrict bool) int {
	if !restrict || hasCapability(unix.CAP_SYS_RESOURCE) {
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
