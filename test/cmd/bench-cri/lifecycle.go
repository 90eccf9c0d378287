package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// benchLabel marks every pod the bench makes, for the clean-up.
const benchLabel = "berth-bench-cri"

// cri is the runtime under test, seen as kubelet sees it.
type cri struct {
	rt      runtimeapi.RuntimeServiceClient
	img     runtimeapi.ImageServiceClient
	image   string // the workload image, pulled
	handler string // RuntimeClass handler; "" the default
	kind    podKind
	logRoot string // the pods' log directories go below it
	seq     atomic.Int64
}

// pod is one pod with one container made by the bench.
type pod struct {
	id, container string
	cfg           *runtimeapi.PodSandboxConfig
}

func (c *cri) podConfig() (*runtimeapi.PodSandboxConfig, error) {
	n := c.seq.Add(1)
	name := fmt.Sprintf("bench-%d", n)
	// kubelet makes each pod's log directory before RunPodSandbox.
	logDir := filepath.Join(c.logRoot, "bench_"+name)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "bench", Uid: fmt.Sprintf("uid-bench-%d-%d", time.Now().UnixNano(), n)},
		Hostname:     name,
		Labels:       map[string]string{benchLabel: "1"},
		LogDirectory: logDir,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: c.kind.namespaces()},
		},
	}, nil
}

// podKind is the kind of pod the bench makes: what the runtime must hold
// the pod's namespaces with.
type podKind string

// The pod kinds: no process of the pod's own needed, an init for a shared
// PID namespace, a user namespace, or both.
const (
	plainPod      podKind = "plain"
	sharedPIDPod  podKind = "shared-pid"
	usernsPod     podKind = "userns"
	usernsInitPod podKind = "userns-shared-pid"
)

var podKinds = []podKind{plainPod, sharedPIDPod, usernsPod, usernsInitPod}

// usernsHostID is the host ID a user-namespaced bench pod's root maps to,
// as kubelet maps one (65536 IDs from a multiple of 65536).
const usernsHostID = 1 << 17

// namespaces are the pod's namespace options, which its container
// follows for its PID namespace.
func (k podKind) namespaces() *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER}
	if k == sharedPIDPod || k == usernsInitPod {
		ns.Pid = runtimeapi.NamespaceMode_POD
	}
	if k == usernsPod || k == usernsInitPod {
		ids := []*runtimeapi.IDMapping{{HostId: usernsHostID, ContainerId: 0, Length: 65536}}
		ns.UsernsOptions = &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD, Uids: ids, Gids: ids}
	}
	return ns
}

// containerConfig is the one container of every bench pod.
func (c *cri) containerConfig() *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "sleep"},
		Image:    &runtimeapi.ImageSpec{Image: c.image},
		Command:  []string{"sleep", "3600"},
		LogPath:  "sleep/0.log",
		Linux: &runtimeapi.LinuxContainerConfig{
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Pid: c.kind.namespaces().Pid},
			},
		},
	}
}

// ready runs a pod and its container, as kubelet does for a new pod, and
// records each step.
func (c *cri) ready(ctx context.Context, s *samples) (pod, error) {
	var p pod
	var err error
	if p.cfg, err = c.podConfig(); err != nil {
		return p, err
	}
	start := time.Now()
	err = s.timed("RunPodSandbox", func() error {
		resp, err := c.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: p.cfg, RuntimeHandler: c.handler})
		p.id = resp.GetPodSandboxId()
		return err
	})
	if err != nil {
		return p, fmt.Errorf("RunPodSandbox: %w", err)
	}
	cfg := c.containerConfig()
	err = s.timed("CreateContainer", func() error {
		resp, err := c.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: p.id, Config: cfg, SandboxConfig: p.cfg})
		p.container = resp.GetContainerId()
		return err
	})
	if err != nil {
		return p, fmt.Errorf("CreateContainer: %w", err)
	}
	err = s.timed("StartContainer", func() error {
		_, err := c.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: p.container})
		return err
	})
	if err != nil {
		return p, fmt.Errorf("StartContainer: %w", err)
	}
	s.add("pod + container ready", time.Since(start))
	return p, nil
}

// teardown stops and removes a pod and its container, as kubelet does
// when a pod is deleted (no grace period: sleep ignores SIGTERM), and
// records each step.
func (c *cri) teardown(ctx context.Context, p pod, s *samples) error {
	start := time.Now()
	if p.container != "" {
		if err := s.timed("StopContainer", func() error {
			_, err := c.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: p.container, Timeout: 0})
			return err
		}); err != nil {
			return fmt.Errorf("StopContainer: %w", err)
		}
		if err := s.timed("RemoveContainer", func() error {
			_, err := c.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: p.container})
			return err
		}); err != nil {
			return fmt.Errorf("RemoveContainer: %w", err)
		}
	}
	if err := s.timed("StopPodSandbox", func() error {
		_, err := c.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.id})
		return err
	}); err != nil {
		return fmt.Errorf("StopPodSandbox: %w", err)
	}
	if err := s.timed("RemovePodSandbox", func() error {
		_, err := c.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.id})
		return err
	}); err != nil {
		return err
	}
	s.add("pod + container gone", time.Since(start))
	return nil
}

// Parallel is one run of many pods made and removed at once.
type Parallel struct {
	Pods int `json:"pods"`
	// AllReadyMS is the time until the last pod and container was ready;
	// PodsPerSecond is Pods over it.
	AllReadyMS    float64   `json:"all_ready_ms"`
	PodsPerSecond float64   `json:"pods_per_second"`
	AllGoneMS     float64   `json:"all_gone_ms"`
	Steps         []Latency `json:"steps"`
}

// parallel makes n pods at once, then removes them at once.
func (c *cri) parallel(ctx context.Context, n int) (Parallel, error) {
	pods, wall, s, err := c.many(ctx, n, n)
	if err != nil {
		return Parallel{}, err
	}
	down := newSamples()
	start := time.Now()
	if err := c.removeAll(ctx, pods, n, down); err != nil {
		return Parallel{}, err
	}
	gone := time.Since(start)
	s.merge(down)
	return Parallel{
		Pods: n, AllReadyMS: ms(wall), PodsPerSecond: float64(n) / wall.Seconds(), AllGoneMS: ms(gone),
		Steps: s.summary(""),
	}, nil
}

// many makes n pods with workers at a time; it returns them, the time until
// all were ready and the steps' samples. A failure removes what it made.
func (c *cri) many(ctx context.Context, n, workers int) ([]pod, time.Duration, *samples, error) {
	var (
		mu    sync.Mutex
		all   = newSamples()
		pods  []pod
		first error
		wg    sync.WaitGroup
		next  atomic.Int64
	)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				s := newSamples()
				p, err := c.ready(ctx, s)
				mu.Lock()
				all.merge(s)
				if p.id != "" {
					pods = append(pods, p)
				}
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if first != nil {
		c.removeAll(context.Background(), pods, workers, newSamples())
		return nil, 0, nil, first
	}
	return pods, wall, all, nil
}

// removeAll tears pods down, workers at a time.
func (c *cri) removeAll(ctx context.Context, pods []pod, workers int, s *samples) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		next  atomic.Int64
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(pods) {
					return
				}
				local := newSamples()
				err := c.teardown(ctx, pods[i], local)
				mu.Lock()
				s.merge(local)
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// removeLeftovers removes every pod the bench made (an interrupted run).
func (c *cri) removeLeftovers(ctx context.Context) {
	resp, err := c.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{benchLabel: "1"}}})
	if err != nil {
		return
	}
	for _, p := range resp.GetItems() {
		c.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.GetId()})
		c.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.GetId()})
	}
}
