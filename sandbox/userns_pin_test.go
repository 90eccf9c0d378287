package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// The child that makes a user-namespaced pod's namespaces is killed after
// they are pinned; if berth dies before that, the kernel kills it: it
// must not outlive berth as an orphan no record names.
func TestNamespaceHolderDiesWithItsThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a user namespace with mappings")
	}
	if _, err := os.Stat(catatonit); err != nil {
		t.Skipf("the host lacks %s (install-deps installs it): %v", catatonit, err)
	}
	rec := &Record{Config: Config{Namespaces: Namespaces{UserNS: &UserNS{
		UIDs: []IDMap{{Container: 0, Host: 200000, Size: 65536}},
		GIDs: []IDMap{{Container: 0, Host: 200000, Size: 65536}},
	}}}}
	started := make(chan *exec.Cmd, 1)
	errs := make(chan error, 1)
	go func() {
		// Locked and never unlocked: the thread exits with the goroutine,
		// as berth's would when it dies.
		runtime.LockOSThread()
		cmd, err := startNamespaceHolder(rec, []string{catatonit, "-P"}, syscall.CLONE_NEWIPC)
		errs <- err
		started <- cmd
	}()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	cmd := <-started
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("the holder ended with %v; want killed by SIGKILL", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the holder outlived the thread that started it")
	}
}
