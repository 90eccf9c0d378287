// Command critestreport reads the JSON report critest (Ginkgo) writes and
// prints a per-group pass/fail/skip table, the failed specs, and one closing
// line "critest: N passed, N failed, N skipped".
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

// The subset of Ginkgo's JSON report this program reads.
type suiteReport struct {
	SpecReports []struct {
		ContainerHierarchyTexts []string
		LeafNodeText            string
		LeafNodeType            string
		State                   string
	}
}

type counts struct{ passed, failed, skipped int }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: critestreport REPORT.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "critestreport:", err)
		os.Exit(1)
	}
	var suites []suiteReport
	if err := json.Unmarshal(data, &suites); err != nil {
		fmt.Fprintln(os.Stderr, "critestreport: parse report:", err)
		os.Exit(1)
	}

	groups := map[string]*counts{}
	var total counts
	var failed []string
	for _, s := range suites {
		for _, r := range s.SpecReports {
			if r.LeafNodeType != "It" {
				continue // suite setup nodes
			}
			group := "(none)"
			if len(r.ContainerHierarchyTexts) > 0 {
				group = strings.TrimSpace(strings.TrimPrefix(strings.TrimSuffix(r.ContainerHierarchyTexts[0], "[Conformance]"), "[k8s.io]"))
			}
			c := groups[group]
			if c == nil {
				c = &counts{}
				groups[group] = c
			}
			switch r.State {
			case "passed":
				c.passed++
				total.passed++
			case "skipped", "pending":
				c.skipped++
				total.skipped++
			default: // failed, panicked, interrupted, aborted, timedout
				c.failed++
				total.failed++
				failed = append(failed, fmt.Sprintf("%s: %s %s", r.State, strings.Join(r.ContainerHierarchyTexts, " "), r.LeafNodeText))
			}
		}
	}

	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "group\tpassed\tfailed\tskipped\t")
	for _, g := range names {
		c := groups[g]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t\n", g, c.passed, c.failed, c.skipped)
	}
	w.Flush()
	for _, f := range failed {
		fmt.Println(f)
	}
	fmt.Printf("critest: %d passed, %d failed, %d skipped\n", total.passed, total.failed, total.skipped)
}
