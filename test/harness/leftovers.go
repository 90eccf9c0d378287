package harness

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/internal/proc"
)

// Leftovers lists what a daemon's pods left on the host once they should
// all be gone: netns pins, sandbox dirs, mounts under the daemon's dir,
// host-local IPs of the network, live pause processes, cgroups under the
// pods' cgroup parent, and iptables rules naming a pod ID or IP.
func (b *Berth) Leftovers(n *Network, cgroupParent string, pausePIDs []int, ids, ips []string) []string {
	var out []string
	for _, d := range []string{"run/ns", "run/sandboxes"} {
		entries, _ := os.ReadDir(filepath.Join(b.Dir, d))
		for _, e := range entries {
			if d == "run/ns" && e.Name() == PodInitMountNS {
				continue // berth's own, shared by every pod init, not a pod's
			}
			out = append(out, fmt.Sprintf("%s/%s", d, e.Name()))
		}
	}
	initMountNS := filepath.Join(b.Dir, "run/ns", PodInitMountNS)
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 4 && (b.rootMount && fields[4] == b.Root() || fields[4] == initMountNS) {
				continue
			}
			if len(fields) > 4 && strings.HasPrefix(fields[4], b.Dir) {
				out = append(out, "mount "+fields[4])
			}
		}
		f.Close()
	}
	if n != nil {
		for _, ip := range n.Allocations() {
			out = append(out, "host-local allocation "+ip)
		}
	}
	for _, pid := range pausePIDs {
		if st, err := proc.ReadStat(pid); err == nil && st.State != 'Z' {
			out = append(out, fmt.Sprintf("pause process %d", pid))
		}
	}
	if cgroupParent != "" {
		for _, d := range CgroupDirs(cgroupParent) {
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				if e.IsDir() {
					out = append(out, "cgroup "+filepath.Join(d, e.Name()))
				}
			}
		}
	}
	rules, err := exec.Command("iptables-save").Output()
	if err != nil {
		// Not a pass: a check that could not look has found nothing.
		out = append(out, fmt.Sprintf("iptables-save failed, rules unchecked: %v", err))
	}
	for _, line := range strings.Split(string(rules), "\n") {
		for _, s := range append(append([]string{}, ids...), ips...) {
			if s != "" && strings.Contains(line, s) {
				out = append(out, "iptables: "+line)
			}
		}
	}
	return out
}

// PodInitMountNS is the pin of the mount namespace berth makes once for
// the inits of pods that share a PID namespace.
const PodInitMountNS = "pod-init-mnt"

// CgroupDirs lists the directories of a cgroup path in every hierarchy the
// host mounts: /sys/fs/cgroup<path> on cgroup v2, /sys/fs/cgroup/<hierarchy><path>
// on v1 and hybrid hosts (including hybrid's unified hierarchy).
func CgroupDirs(path string) []string {
	var dirs []string
	for _, pattern := range []string{"/sys/fs/cgroup" + path, "/sys/fs/cgroup/*" + path} {
		matches, _ := filepath.Glob(pattern)
		dirs = append(dirs, matches...)
	}
	return dirs
}
