// Command critestreport reads the JSON report critest (Ginkgo) writes and
// prints a per-group pass/fail/skip table, the failed specs, and one closing
// line "critest: N passed, N failed, N skipped".
//
// With --expect FILE it also compares the counts with FILE (lines "group |
// passed | skipped", # comments) and exits 1 on any difference: critest
// skips a spec when the runtime does not advertise its feature and still
// exits 0, so a broken feature probe would otherwise pass unseen.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
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
	expect := flag.String("expect", "", "file of expected passed and skipped counts per group")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: critestreport [--expect FILE] REPORT.json")
		os.Exit(2)
	}
	groups, failed, err := readReport(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "critestreport:", err)
		os.Exit(1)
	}
	printReport(groups, failed)
	if *expect == "" {
		return
	}
	want, err := readExpected(*expect)
	if err != nil {
		fmt.Fprintln(os.Stderr, "critestreport:", err)
		os.Exit(1)
	}
	if diffs := compare(groups, want); len(diffs) > 0 {
		fmt.Printf("critest counts differ from %s:\n", *expect)
		for _, d := range diffs {
			fmt.Println("  " + d)
		}
		os.Exit(1)
	}
	fmt.Printf("critest counts match %s\n", *expect)
}

func readReport(path string) (map[string]*counts, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var suites []suiteReport
	if err := json.Unmarshal(data, &suites); err != nil {
		return nil, nil, fmt.Errorf("parse report: %w", err)
	}
	groups := map[string]*counts{}
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
			case "skipped", "pending":
				c.skipped++
			default: // failed, panicked, interrupted, aborted, timedout
				c.failed++
				failed = append(failed, fmt.Sprintf("%s: %s %s", r.State, strings.Join(r.ContainerHierarchyTexts, " "), r.LeafNodeText))
			}
		}
	}
	return groups, failed, nil
}

func printReport(groups map[string]*counts, failed []string) {
	var total counts
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "group\tpassed\tfailed\tskipped\t")
	for _, g := range sortedKeys(groups) {
		c := groups[g]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t\n", g, c.passed, c.failed, c.skipped)
		total.passed += c.passed
		total.failed += c.failed
		total.skipped += c.skipped
	}
	w.Flush()
	for _, f := range failed {
		fmt.Println(f)
	}
	fmt.Printf("critest: %d passed, %d failed, %d skipped\n", total.passed, total.failed, total.skipped)
}

// readExpected reads "group | passed | skipped" lines.
func readExpected(path string) (map[string]counts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := map[string]counts{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s:%d: want \"group | passed | skipped\"", path, n)
		}
		passed, err1 := strconv.Atoi(strings.TrimSpace(parts[1]))
		skipped, err2 := strconv.Atoi(strings.TrimSpace(parts[2]))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: counts must be numbers", path, n)
		}
		want[strings.TrimSpace(parts[0])] = counts{passed: passed, skipped: skipped}
	}
	return want, sc.Err()
}

// compare lists every group whose counts differ, and any failure.
func compare(got map[string]*counts, want map[string]counts) []string {
	var diffs []string
	for _, g := range sortedKeys(got) {
		c := got[g]
		w, ok := want[g]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: not expected (ran %d passed, %d skipped)", g, c.passed, c.skipped))
		case c.passed != w.passed || c.skipped != w.skipped || c.failed != 0:
			diffs = append(diffs, fmt.Sprintf("%s: %d passed, %d failed, %d skipped; expected %d passed, %d skipped", g, c.passed, c.failed, c.skipped, w.passed, w.skipped))
		}
	}
	for _, g := range sortedKeys(want) {
		if _, ok := got[g]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: expected %d passed, %d skipped; did not run", g, want[g].passed, want[g].skipped))
		}
	}
	return diffs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
