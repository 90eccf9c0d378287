//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/test/harness"
)

// rewriteRecords changes every record of a bucket of berth's store (berth
// is not running) with edit, on its JSON fields.
func rewriteRecords(t *testing.T, dbPath, bucket string, edit func(map[string]any)) {
	t.Helper()
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recs := map[string]map[string]any{}
	if err := db.ForEach(bucket, func(key string, data []byte) error {
		var r map[string]any
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		recs[key] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for key, r := range recs {
		edit(r)
		if err := db.Put(bucket, key, r); err != nil {
			t.Fatal(err)
		}
	}
}

// simulateReboot does to a dead berth's pods what a reboot does: their
// processes, mounts, runtime state, cgroups and NAT rules go, the runroot
// is empty. Their IPs stay taken (host-local keeps them on disk).
func simulateReboot(t *testing.T, b *harness.Berth, parent string, pids []int, sandboxIDs ...string) {
	t.Helper()
	starts := make([]uint64, len(pids))
	for i, pid := range pids {
		starts[i] = mustStart(t, pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for i, pid := range pids {
		waitFor(t, 30*time.Second, func() bool { return !proc.Alive(pid, starts[i]) })
	}
	run := filepath.Join(b.Dir, "run")
	mounts := mountsUnder(t, run)
	sort.Sort(sort.Reverse(sort.StringSlice(mounts))) // deepest first
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			t.Fatalf("unmount %s: %v", m, err)
		}
	}
	if err := os.RemoveAll(run); err != nil {
		t.Fatal(err)
	}
	// The cgroups below the test's parent (pods and containers), deepest first.
	dirs := harness.CgroupDirs(parent + "/*/*")
	dirs = append(dirs, harness.CgroupDirs(parent+"/*")...)
	for _, d := range dirs {
		os.Remove(d)
	}
	for _, id := range sandboxIDs {
		flushNATRulesOf(t, id)
	}
}

// flushNATRulesOf deletes the nat table's rules the CNI plugins added for
// a sandbox (they name it in a comment), and the chains they jump to.
func flushNATRulesOf(t *testing.T, id string) {
	t.Helper()
	out, err := exec.Command("iptables", "-t", "nat", "-S").Output()
	if err != nil {
		t.Fatal(err)
	}
	chains := map[string]bool{}
	for _, rule := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(rule, "-A ") || !strings.Contains(rule, id) {
			continue
		}
		args, err := shellFields(rule)
		if err != nil {
			t.Fatal(err)
		}
		args[0] = "-D"
		if i := slices.Index(args, "-j"); i >= 0 && i+1 < len(args) && strings.HasPrefix(args[i+1], "CNI-") {
			chains[args[i+1]] = true
		}
		if out, err := exec.Command("iptables", append([]string{"-t", "nat"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("iptables -D %v: %v: %s", args, err, out)
		}
	}
	for chain := range chains {
		exec.Command("iptables", "-t", "nat", "-F", chain).Run()
		exec.Command("iptables", "-t", "nat", "-X", chain).Run()
	}
}

// shellFields splits an iptables -S line into arguments, honouring the
// double quotes (with \" escapes) of its comments.
func shellFields(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && inQuote && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			inQuote, have = !inQuote, true
		case c == ' ' && !inQuote:
			if have || cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unbalanced quotes in %q", line)
	}
	if have || cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

// After a reboot every pod is NotReady and every container exited, and
// berth signals none of the pids its records name: they now belong to
// whoever got them. Stop and remove then free what the reboot left (the
// pods' IPs), and nothing stays.
func TestRebootedNodeReportsPodsNotReadyAndSignalsNothing(t *testing.T) {
	f := newContainerFixture(t, "berth-it-reboot", "berthitreboot", "10.124.23.0/24")
	b := f.b
	p := f.runPod(t, "rebooted", sharePID) // an init, whose pid the record names
	id := runContainer(t, b, p, containerConfig("sleeper", "sleep", "3600"))
	_, info := containerStatus(t, b, id)
	b.Kill()
	simulateReboot(t, b, f.parent, []int{info.PID, info.ConmonPID, p.pid}, p.id)

	// A process berth never started now holds the pids, as after a reboot
	// any may: same pid and start time as the records say, for the checks
	// that only have those.
	decoy := exec.Command("sleep", "3600")
	if err := decoy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { decoy.Process.Kill(); decoy.Wait() })
	decoyStart := float64(mustStart(t, decoy.Process.Pid))
	decoyPid := float64(decoy.Process.Pid)
	dbPath := filepath.Join(b.Dir, "root", "berth.db")
	earlier := "00000000-0000-4000-8000-000000000000"
	rewriteRecords(t, dbPath, "containers", func(r map[string]any) {
		r["boot_id"], r["pid"], r["pid_start"], r["conmon_pid"], r["conmon_start"] = earlier, decoyPid, decoyStart, decoyPid, decoyStart
	})
	rewriteRecords(t, dbPath, "sandboxes", func(r map[string]any) {
		r["boot_id"], r["pause_pid"], r["pause_start"] = earlier, decoyPid, decoyStart
	})
	b.Restart(t)

	st, _ := podStatus(t, b, p.id)
	if st.GetState() != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
		t.Errorf("pod after a reboot is %s, want NotReady", st.GetState())
	}
	cst, _ := containerStatus(t, b, id)
	if cst.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED || cst.GetExitCode() != 255 {
		t.Errorf("container after a reboot is %s (exit %d), want exited with 255", cst.GetState(), cst.GetExitCode())
	}
	stopContainer(t, b, id, 10)
	removeContainer(t, b, id)
	removePod(t, b, p.id)
	if !proc.Alive(decoy.Process.Pid, uint64(decoyStart)) {
		t.Fatal("berth signalled a process it did not start, named by a record of an earlier boot")
	}
	f.assertAllClean(t, []testPod{{id: p.id, cfg: p.cfg, ip: p.ip}})
}
