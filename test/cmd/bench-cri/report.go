package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
)

// printReport writes the report as tables.
func printReport(out io.Writer, r *Report) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(out, "bench-cri: %s on %s, %s pods, %d CPUs, %s\n\n", r.Runtime, r.Endpoint, r.PodKind, r.CPUs, r.When.Format("2006-01-02 15:04 MST"))
	latencies := func(title string, ls []Latency) {
		if len(ls) == 0 {
			return
		}
		fmt.Fprintf(w, "%s\tp50 ms\tp90 ms\tp99 ms\tn\t\n", title)
		for _, l := range ls {
			fmt.Fprintf(w, "%s\t%.1f\t%.1f\t%.1f\t%d\t\n", l.Name, l.P50, l.P90, l.P99, l.N)
		}
		fmt.Fprintln(w, "\t\t\t\t\t")
	}
	latencies("floor (direct)", r.Floor)
	latencies("one at a time (CRI)", r.Sequential)
	latencies("one at a time (crictl)", r.Crictl)
	if r.ReadyOverFloor > 0 {
		fmt.Fprintf(w, "ready over floor (p50)\t%.2f\t\t\t\t\n", r.ReadyOverFloor)
	}
	if r.GoneOverFloor > 0 {
		fmt.Fprintf(w, "gone over floor (p50)\t%.2f\t\t\t\t\n", r.GoneOverFloor)
	}
	if r.CrictlReadyLessOwn > 0 {
		fmt.Fprintf(w, "crictl ready less 3 x crictl version (p50)\t%.1f ms\t\t\t\t\n", r.CrictlReadyLessOwn)
	}
	if r.ReadyOverFloor > 0 || r.GoneOverFloor > 0 || r.CrictlReadyLessOwn > 0 {
		fmt.Fprintln(w, "\t\t\t\t\t")
	}
	for _, p := range r.Parallel {
		fmt.Fprintf(w, "%d at once: all ready\t%.0f ms\t%.1f pods/s\tall gone\t%.0f ms\t\n", p.Pods, p.AllReadyMS, p.PodsPerSecond, p.AllGoneMS)
		latencies(fmt.Sprintf("%d at once, per call", p.Pods), p.Steps)
	}
	if p := r.Pull; p != nil {
		fmt.Fprintf(w, "pull + unpack %.0f MiB\t%.0f ms\t%.1f MiB/s\t\t%d\t\n\t\t\t\t\t\n", p.MiB, p.P50MS, p.MiBPerSec, p.Runs)
	}
	if s := r.Scale; s != nil {
		latencies(fmt.Sprintf("with %d pods", s.Pods), s.Queries)
		if s.DaemonRSSMiB > 0 {
			fmt.Fprintf(w, "daemon RSS idle / %d pods\t%.1f MiB\t%.1f MiB\t\t\t\n", s.Pods, s.DaemonRSSIdleMiB, s.DaemonRSSMiB)
			fmt.Fprintf(w, "  own (anon) / mapped files\t%.1f MiB\t%.1f MiB\t\t\t\n", s.DaemonRSSAnonMiB, s.DaemonRSSFileMiB)
		}
		fmt.Fprintf(w, "overhead per pod (PSS)\t%.0f KiB\t\t\t\t\n", s.OverheadPerPodKiB)
		for _, comm := range slices.Sorted(maps.Keys(s.OverheadByCommand)) {
			fmt.Fprintf(w, "  %s\t%.0f KiB\t\t\t\t\n", comm, s.OverheadByCommand[comm])
		}
		if s.RestartMS > 0 {
			fmt.Fprintf(w, "SIGKILL to first RPC / full list\t%.0f ms\t%.0f ms\t\t\t\n", s.RestartMS, s.RestartListedMS)
		}
	}
	w.Flush()
}
