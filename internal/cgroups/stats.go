package cgroups

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// Stats are a cgroup's resource usage.
type Stats struct {
	Timestamp time.Time
	// CPUNanos is the CPU time used, all cores, in nanoseconds.
	CPUNanos uint64
	// MemoryWorkingSet is usage minus inactive file pages, as kubelet
	// counts it for evictions.
	MemoryWorkingSet uint64
	MemoryUsage      uint64
	// MemoryRSS is anonymous memory and swap cache (with huge pages).
	MemoryRSS                   uint64
	PageFaults, MajorPageFaults uint64
	// MemoryLimit is the cgroup's memory limit; 0 when it has none.
	MemoryLimit uint64
	// SwapUsage is the swap the cgroup uses, SwapLimit its limit (0: none);
	// both 0 where swap is not accounted.
	SwapUsage, SwapLimit uint64
	// OOMKills is how many processes the kernel's OOM killer killed in
	// the cgroup (0 on kernels before 4.13, which do not count them).
	OOMKills uint64
	// Processes is how many processes (tasks) are in the cgroup.
	Processes uint64
	// The pressure stall information of the cgroup (cgroup v2 with PSI);
	// nil where the kernel reports none.
	CPUPressure, MemoryPressure, IOPressure *Pressure
}

// Pressure is the PSI of one resource: some or all tasks stalled.
type Pressure struct {
	Some, Full PressureData
}

// PressureData is one line of a PSI file: the running averages of the
// share of time stalled (in percent) and the total stall time.
type PressureData struct {
	Avg10, Avg60, Avg300 float64
	TotalNanos           uint64
}

// noLimit is the least value a v1 limit file holds for "no limit" (the
// largest page-aligned int64).
const noLimit = math.MaxInt64 &^ 0xfff

// Stats reads the usage of the cgroup named by an OCI cgroupsPath (a
// record's CgroupsPath, in the driver's form). An empty path, a
// cgroup that is gone and a controller the host lacks read as zero.
//
// It reads the numbers it reports straight from their files, each file
// once, rather than through containerd's cgroup Stat, which reads every file
// of every controller on each call: ListContainerStats does this for every
// container kubelet asks about.
func (h *Host) Stats(driver Driver, cgroupsPath string) Stats {
	st := Stats{Timestamp: time.Now()}
	if cgroupsPath == "" {
		return st
	}
	p, err := Path(driver, cgroupsPath)
	if err != nil {
		logrus.WithError(err).WithField("cgroup", cgroupsPath).Debug("container stats: no cgroup path")
		return st
	}
	return h.statsAt(p)
}

// ParentStats reads the usage of a pod's cgroup, named by its parent as
// kubelet gives it (ParentPath).
func (h *Host) ParentStats(driver Driver, parent string) Stats {
	p, err := ParentPath(driver, parent)
	if err != nil {
		logrus.WithError(err).WithField("cgroup", parent).Debug("pod stats: no cgroup path")
		return Stats{Timestamp: time.Now()}
	}
	return h.statsAt(p)
}

func (h *Host) statsAt(p string) Stats {
	st := Stats{Timestamp: time.Now()}
	if h.Mode() == Unified {
		h.unifiedStats(p, &st)
	} else {
		h.legacyStats(p, &st)
	}
	return st
}

func (h *Host) unifiedStats(p string, st *Stats) {
	if dir, ok := h.Dir("cpu", p); ok {
		st.CPUNanos = statFields(filepath.Join(dir, "cpu.stat"))["usage_usec"] * 1000
	}
	dir := filepath.Join(h.Root(), p)
	if _, ok := h.Dir("memory", p); ok {
		st.MemoryUsage = readUint(filepath.Join(dir, "memory.current"))
		ms := statFields(filepath.Join(dir, "memory.stat"))
		st.MemoryWorkingSet = workingSet(st.MemoryUsage, ms["inactive_file"])
		st.MemoryRSS = ms["anon"]
		st.PageFaults, st.MajorPageFaults = ms["pgfault"], ms["pgmajfault"]
		st.MemoryLimit = readLimit(filepath.Join(dir, "memory.max"))
		st.SwapUsage = readUint(filepath.Join(dir, "memory.swap.current"))
		st.SwapLimit = readLimit(filepath.Join(dir, "memory.swap.max"))
		st.OOMKills = statFields(filepath.Join(dir, "memory.events"))["oom_kill"]
	}
	if _, ok := h.Dir("pids", p); ok {
		st.Processes = readUint(filepath.Join(dir, "pids.current"))
	} else {
		st.Processes = countLines(filepath.Join(dir, "cgroup.procs"))
	}
	st.CPUPressure = readPressure(filepath.Join(dir, "cpu.pressure"))
	st.MemoryPressure = readPressure(filepath.Join(dir, "memory.pressure"))
	st.IOPressure = readPressure(filepath.Join(dir, "io.pressure"))
}

func (h *Host) legacyStats(p string, st *Stats) {
	if dir, ok := h.Dir("cpuacct", p); ok {
		st.CPUNanos = readUint(filepath.Join(dir, "cpuacct.usage"))
	}
	if dir, ok := h.Dir("memory", p); ok {
		st.MemoryUsage = readUint(filepath.Join(dir, "memory.usage_in_bytes"))
		// total_ counts the cgroup's descendants too, as usage does.
		ms := statFields(filepath.Join(dir, "memory.stat"))
		st.MemoryWorkingSet = workingSet(st.MemoryUsage, ms["total_inactive_file"])
		st.MemoryRSS = ms["total_rss"]
		st.PageFaults, st.MajorPageFaults = ms["total_pgfault"], ms["total_pgmajfault"]
		st.MemoryLimit = readLimit(filepath.Join(dir, "memory.limit_in_bytes"))
		st.OOMKills = statFields(filepath.Join(dir, "memory.oom_control"))["oom_kill"]
		if h.SwapAccounting() {
			// memsw counts memory and swap together.
			if both := readUint(filepath.Join(dir, "memory.memsw.usage_in_bytes")); both > st.MemoryUsage {
				st.SwapUsage = both - st.MemoryUsage
			}
			if both := readLimit(filepath.Join(dir, "memory.memsw.limit_in_bytes")); both > st.MemoryLimit && st.MemoryLimit > 0 {
				st.SwapLimit = both - st.MemoryLimit
			}
		}
	}
	if dir, ok := h.Dir("pids", p); ok {
		st.Processes = readUint(filepath.Join(dir, "pids.current"))
	}
}

// readUint reads a file holding one number; a missing or odd file is 0.
func readUint(path string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	return v
}

// readLimit reads a limit file: "max" (v2), a v1 "unlimited" value, a
// missing file or an odd one are 0, no limit.
func readLimit(path string) uint64 {
	v := readUint(path)
	if v >= noLimit {
		return 0
	}
	return v
}

// statFields reads the "key value" lines of a stat file; absent keys read
// as 0.
func statFields(path string) map[string]uint64 {
	out := map[string]uint64{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// readPressure reads a PSI file ("some avg10=0.12 avg60=0.05 avg300=0.01
// total=12345", and a "full" line); nil when there is none.
func readPressure(path string) *Pressure {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var p Pressure
	found := false
	for line := range strings.SplitSeq(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var d *PressureData
		switch fields[0] {
		case "some":
			d = &p.Some
		case "full":
			d = &p.Full
		default:
			continue
		}
		found = true
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "avg10":
				d.Avg10, _ = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, _ = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, _ = strconv.ParseFloat(v, 64)
			case "total":
				us, _ := strconv.ParseUint(v, 10, 64)
				d.TotalNanos = us * 1000 // the kernel counts microseconds
			}
		}
	}
	if !found {
		return nil
	}
	return &p
}

// countLines counts the non-empty lines of a file.
func countLines(path string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var n uint64
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.TrimSpace(line) != "" {
			n++
		}
	}
	return n
}

func workingSet(usage, inactiveFile uint64) uint64 {
	if inactiveFile > usage {
		return 0
	}
	return usage - inactiveFile
}
