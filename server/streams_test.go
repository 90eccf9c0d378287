package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/sandbox"
)

// sent collects what a server-streaming RPC sends; failAfter > 0 makes
// the send after that many fail, as a client gone away does.
type sent[T any] struct {
	grpc.ServerStream
	msgs      []*T
	failAfter int
}

func (s *sent[T]) Send(m *T) error {
	if s.failAfter > 0 && len(s.msgs) == s.failAfter {
		return errors.New("client gone")
	}
	s.msgs = append(s.msgs, m)
	return nil
}

// List is oldest first, as the manager's.
func (f *fakeSandboxes) List() []sandbox.Record {
	out := make([]sandbox.Record, 0, len(f.records))
	for _, r := range f.records {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b sandbox.Record) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

type listedContainers struct {
	fakeContainers
	recs []container.Record
}

func (f *listedContainers) List() []container.Record { return f.recs }

// StreamPodSandboxes sends ListPodSandbox's answer in batches, oldest
// first, with the same filter; a failed send ends it with the error.
func TestStreamPodSandboxes(t *testing.T) {
	n := streamBatch*2 + 3
	sb := &fakeSandboxes{records: map[string]sandbox.Record{}}
	start := time.Now()
	for i := range n {
		id := fmt.Sprintf("pod%04d", i)
		state := sandbox.Ready
		if i%2 == 1 {
			state = sandbox.NotReady
		}
		sb.records[id] = sandbox.Record{ID: id, State: state, CreatedAt: start.Add(time.Duration(i) * time.Millisecond),
			Config: sandbox.Config{Name: id, Labels: map[string]string{"half": fmt.Sprint(i%2 == 0)}}}
	}
	s := testServer(sb, &fakeContainers{})
	var all sent[runtimeapi.StreamPodSandboxesResponse]
	if err := s.StreamPodSandboxes(&runtimeapi.StreamPodSandboxesRequest{}, &all); err != nil {
		t.Fatal(err)
	}
	if len(all.msgs) != 3 {
		t.Fatalf("%d batches for %d pods, want 3", len(all.msgs), n)
	}
	got := 0
	for _, m := range all.msgs {
		for _, p := range m.GetPodSandboxes() {
			if want := fmt.Sprintf("pod%04d", got); p.GetId() != want {
				t.Fatalf("pod %d is %s, want %s (oldest first)", got, p.GetId(), want)
			}
			got++
		}
	}
	if got != n {
		t.Errorf("streamed %d pods, want %d", got, n)
	}

	var ready sent[runtimeapi.StreamPodSandboxesResponse]
	filter := &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}
	if err := s.StreamPodSandboxes(&runtimeapi.StreamPodSandboxesRequest{Filter: filter}, &ready); err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, m := range ready.msgs {
		for _, p := range m.GetPodSandboxes() {
			if p.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY {
				t.Errorf("filter let %s (%s) through", p.GetId(), p.GetState())
			}
			count++
		}
	}
	if count != (n+1)/2 {
		t.Errorf("%d ready pods streamed, want %d", count, (n+1)/2)
	}

	gone := sent[runtimeapi.StreamPodSandboxesResponse]{failAfter: 1}
	if err := s.StreamPodSandboxes(&runtimeapi.StreamPodSandboxesRequest{}, &gone); err == nil || len(gone.msgs) != 1 {
		t.Errorf("a failed send: err %v after %d batches; want the error after 1", err, len(gone.msgs))
	}
}

func TestStreamContainers(t *testing.T) {
	c := &listedContainers{}
	for i := range streamBatch + 1 {
		c.recs = append(c.recs, container.Record{ID: fmt.Sprintf("c%04d", i), SandboxID: fmt.Sprintf("pod%d", i%2), State: container.Running,
			Config: container.Config{Name: "app"}})
	}
	s := testServer(&fakeSandboxes{}, &fakeContainers{})
	s.containers = c
	var all sent[runtimeapi.StreamContainersResponse]
	if err := s.StreamContainers(&runtimeapi.StreamContainersRequest{}, &all); err != nil {
		t.Fatal(err)
	}
	if len(all.msgs) != 2 || len(all.msgs[0].GetContainers()) != streamBatch || len(all.msgs[1].GetContainers()) != 1 {
		t.Fatalf("batches %d, want %d then 1", len(all.msgs), streamBatch)
	}
	var ofPod sent[runtimeapi.StreamContainersResponse]
	if err := s.StreamContainers(&runtimeapi.StreamContainersRequest{Filter: &runtimeapi.ContainerFilter{PodSandboxId: "pod1"}}, &ofPod); err != nil {
		t.Fatal(err)
	}
	for _, m := range ofPod.msgs {
		for _, ctr := range m.GetContainers() {
			if ctr.GetPodSandboxId() != "pod1" || ctr.GetMetadata().GetName() != "app" {
				t.Errorf("filter let %s of %s through", ctr.GetId(), ctr.GetPodSandboxId())
			}
		}
	}
}

func TestUpdateRuntimeConfig(t *testing.T) {
	s := testServer(&fakeSandboxes{}, &fakeContainers{})
	for cidr, code := range map[string]codes.Code{
		"":                            codes.OK,
		"10.244.1.0/24":               codes.OK,
		"10.244.1.0/24,fd00:1::/64":   codes.OK,
		"10.244.1.0":                  codes.InvalidArgument,
		"10.244.1.0/24,not-a-network": codes.InvalidArgument,
	} {
		_, err := s.UpdateRuntimeConfig(context.Background(), &runtimeapi.UpdateRuntimeConfigRequest{
			RuntimeConfig: &runtimeapi.RuntimeConfig{NetworkConfig: &runtimeapi.NetworkConfig{PodCidr: cidr}},
		})
		if code == codes.OK && err != nil {
			t.Errorf("pod CIDR %q: %v", cidr, err)
		} else if code != codes.OK {
			wantCode(t, err, code)
		}
	}
}
