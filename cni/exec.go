package cni

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/metrics"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

// pluginExec runs CNI plugins like libcni's default executor, except that a
// plugin cut off by the timeout is killed with its whole process group. The
// default kills only the plugin, and a child it left holding the output pipe
// (iptables, a shell's sleep) would keep the call waiting forever.
type pluginExec struct {
	version.PluginDecoder
}

var _ invoke.Exec = &pluginExec{}

func (*pluginExec) ExecPlugin(ctx context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, pluginPath)
	cmd.Env = environ
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	metrics.CNIFailures.WithLabelValues(filepath.Base(pluginPath), cniCommand(environ)).Inc()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("cut off after the CNI timeout: %w", ctx.Err())
	}
	return nil, pluginError(err, stdout.Bytes(), stderr.Bytes())
}

// cniCommand is the CNI_COMMAND of a plugin call's environment.
func cniCommand(environ []string) string {
	for _, kv := range environ {
		if cmd, ok := strings.CutPrefix(kv, "CNI_COMMAND="); ok {
			return cmd
		}
	}
	return "unknown"
}

func (*pluginExec) FindInPath(plugin string, paths []string) (string, error) {
	return invoke.FindInPath(plugin, paths)
}

// pluginError turns a failed plugin's output into the CNI error it printed
// on stdout, or its stderr when it printed none.
func pluginError(err error, stdout, stderr []byte) error {
	var e types.Error
	if len(stdout) > 0 && json.Unmarshal(stdout, &e) == nil && e.Msg != "" {
		return &e
	}
	msg := strings.TrimSpace(string(stderr))
	if msg == "" {
		msg = strings.TrimSpace(string(stdout))
	}
	if msg == "" {
		return fmt.Errorf("%v, no message", err)
	}
	return fmt.Errorf("%v: %s", err, msg)
}
