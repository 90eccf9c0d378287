package spec

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
)

func writeHook(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hookPaths(hs []rspec.Hook) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Path)
	}
	return out
}

func TestBuildSpecHooks(t *testing.T) {
	dir, bin := t.TempDir(), t.TempDir()
	// The hook library skips a hook whose program is missing.
	for _, name := range []string{"gpu-hook", "app-hook", "mounts-hook", "late-hook"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeHook(t, dir, "always.json", `{"version": "1.0.0", "hook": {"path": "/bin/true", "args": ["true", "always"]}, "when": {"always": true}, "stages": ["prestart", "poststop"]}`)
	writeHook(t, dir, "gpu.json", `{"version": "1.0.0", "hook": {"path": "`+bin+`/gpu-hook"}, "when": {"annotations": {"^example\\.com/gpu$": "^yes$"}}, "stages": ["createContainer"]}`)
	writeHook(t, dir, "app.json", `{"version": "1.0.0", "hook": {"path": "`+bin+`/app-hook"}, "when": {"commands": ["^/bin/app$"]}, "stages": ["poststart"]}`)
	writeHook(t, dir, "mounts.json", `{"version": "1.0.0", "hook": {"path": "`+bin+`/mounts-hook"}, "when": {"hasBindMounts": true}, "stages": ["startContainer"]}`)
	writeHook(t, dir, "README", "not a hook")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hooks, err := NewHooks(ctx, []string{filepath.Join(dir, "absent"), dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		mutate func(*testCase)
		want   rspec.Hooks
	}{
		{"the command matches", nil, rspec.Hooks{
			CreateRuntime: []rspec.Hook{{Path: "/bin/true", Args: []string{"true", "always"}}},
			Poststart:     []rspec.Hook{{Path: bin + "/app-hook"}},
			Poststop:      []rspec.Hook{{Path: "/bin/true", Args: []string{"true", "always"}}},
		}},
		{"annotation, bind mounts, another command", func(in *testCase) {
			in.Container.Command = []string{"/bin/other"}
			in.Container.Annotations = map[string]string{"example.com/gpu": "yes"}
			in.Container.Mounts = []Mount{{ContainerPath: "/data", HostPath: t.TempDir()}}
		}, rspec.Hooks{
			CreateRuntime:   []rspec.Hook{{Path: "/bin/true", Args: []string{"true", "always"}}},
			CreateContainer: []rspec.Hook{{Path: bin + "/gpu-hook"}},
			StartContainer:  []rspec.Hook{{Path: bin + "/mounts-hook"}},
			Poststop:        []rspec.Hook{{Path: "/bin/true", Args: []string{"true", "always"}}},
		}},
		{"an annotation value that does not match", func(in *testCase) {
			in.Container.Command = []string{"/bin/other"}
			in.Container.Annotations = map[string]string{"example.com/gpu": "no"}
		}, rspec.Hooks{
			CreateRuntime: []rspec.Hook{{Path: "/bin/true", Args: []string{"true", "always"}}},
			Poststop:      []rspec.Hook{{Path: "/bin/true", Args: []string{"true", "always"}}},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := buildSpec(t, func(in *testCase) {
				in.Host.Hooks = hooks
				if tt.mutate != nil {
					tt.mutate(in)
				}
			})
			if s.Hooks == nil {
				t.Fatal("no hooks in the spec")
			}
			for stage, got := range map[string][2][]rspec.Hook{
				"createRuntime":   {s.Hooks.CreateRuntime, tt.want.CreateRuntime},
				"createContainer": {s.Hooks.CreateContainer, tt.want.CreateContainer},
				"startContainer":  {s.Hooks.StartContainer, tt.want.StartContainer},
				"poststart":       {s.Hooks.Poststart, tt.want.Poststart},
				"poststop":        {s.Hooks.Poststop, tt.want.Poststop},
			} {
				if !slices.Equal(hookPaths(got[0]), hookPaths(got[1])) {
					t.Errorf("%s hooks %v, want %v", stage, hookPaths(got[0]), hookPaths(got[1]))
				}
			}
		})
	}

	// A hook file written later applies to the containers created after it.
	writeHook(t, dir, "late.json", `{"version": "1.0.0", "hook": {"path": "`+bin+`/late-hook"}, "when": {"always": true}, "stages": ["poststop"]}`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := buildSpec(t, func(in *testCase) { in.Host.Hooks = hooks })
		if slices.Contains(hookPaths(s.Hooks.Poststop), bin+"/late-hook") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a hook written after start-up never applied: poststop %v", hookPaths(s.Hooks.Poststop))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBrokenHookFileStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "broken.json", `{"version": "1.0.0", "hook": {"path": "/bin/true"}, "stages": ["prestart"]`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := NewHooks(ctx, []string{dir}); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Fatalf("NewHooks with a broken file: %v; want an error naming it", err)
	}
	if h, err := NewHooks(ctx, []string{filepath.Join(dir, "absent")}); h != nil || err != nil {
		t.Fatalf("no hooks dir: %v, %v; want no hooks and no error", h, err)
	}
}
