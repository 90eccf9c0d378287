package harness

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/proc"
)

// Pid is the process ID of the running daemon (it changes on Restart).
func (b *Berth) Pid() int { return b.cmd.Process.Pid }

// OpenFDs lists the daemon's open file descriptors, each as "fd -> target".
func (b *Berth) OpenFDs() ([]string, error) {
	dir := fmt.Sprintf("/proc/%d/fd", b.Pid())
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join(dir, e.Name()))
		out = append(out, e.Name()+" -> "+target)
	}
	return out, nil
}

// Conmons lists the live conmon processes whose command line names the
// daemon's directory, i.e. the monitors of this daemon's containers.
func (b *Berth) Conmons() []int {
	var pids []int
	matches, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, m := range matches {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(m)))
		if err != nil {
			continue
		}
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if filepath.Base(args[0]) != "conmon" || !strings.Contains(string(data), b.Dir) {
			continue
		}
		if st, err := proc.ReadStat(pid); err == nil && st.State != 'Z' {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// ContainerLeftovers lists what this daemon's containers left once they
// should all be gone: entries of the exit, bundle, upper-dir and attach
// dirs and of the trash (emptied in the background), live conmons, zombie children of the daemon, and cgroup dirs at any
// depth under cgroupParent (see Leftovers for the rest).
func (b *Berth) ContainerLeftovers(cgroupParent string) []string {
	var out []string
	for _, d := range []string{"run/exits", "run/containers", "root/containers", "run/attach", "run/trash", "root/trash"} {
		entries, _ := os.ReadDir(filepath.Join(b.Dir, d))
		for _, e := range entries {
			out = append(out, fmt.Sprintf("%s/%s", d, e.Name()))
		}
	}
	for _, pid := range b.Conmons() {
		out = append(out, fmt.Sprintf("conmon process %d", pid))
	}
	if b.cmd != nil && b.cmd.Process != nil {
		matches, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, m := range matches {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(m)))
			if err != nil {
				continue
			}
			if st, err := proc.ReadStat(pid); err == nil && st.State == 'Z' && st.PPID == b.Pid() {
				out = append(out, fmt.Sprintf("zombie child %d of berth", pid))
			}
		}
	}
	if cgroupParent != "" {
		for _, root := range CgroupDirs(cgroupParent) {
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() && p != root {
					out = append(out, "cgroup "+p)
				}
				return nil
			})
		}
	}
	return out
}
