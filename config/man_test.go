package config

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestManualHasEveryKey: berth.toml(5) documents every key and table
// `berth config` prints, with its doc.
func TestManualHasEveryKey(t *testing.T) {
	var conf, man bytes.Buffer
	if err := Write(&conf, Default()); err != nil {
		t.Fatal(err)
	}
	if err := Manual(&man); err != nil {
		t.Fatal(err)
	}
	page := man.String()
	if !strings.HasPrefix(page, ".nh\n.TH berth.toml 5") {
		t.Fatalf("not a roff page of section 5:\n%.200s", page)
	}
	key := regexp.MustCompile(`^(?:# )?([a-z_]+) = `)
	table := regexp.MustCompile(`^(?:# )?\[([a-z_]+)`)
	keys := 0
	sc := bufio.NewScanner(&conf)
	for sc.Scan() {
		line := sc.Text()
		if m := key.FindStringSubmatch(line); m != nil {
			keys++
			if !strings.Contains(page, `\fB`+m[1]+`\fP`) {
				t.Errorf("the man page lacks key %s", m[1])
			}
		}
		if m := table.FindStringSubmatch(line); m != nil && !strings.Contains(page, "["+m[1]) {
			t.Errorf("the man page lacks table [%s]", m[1])
		}
	}
	if keys < 30 {
		t.Fatalf("found only %d keys in `berth config`; the test reads it wrong", keys)
	}
	// A doc with markdown's special characters comes through as text.
	if !strings.Contains(page, "registry.k8s.io/*") {
		t.Errorf("the pinned_images doc lost its \"*\":\n%s", page)
	}
}
