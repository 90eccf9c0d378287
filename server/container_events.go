package server

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/internal/events"
)

// GetContainerEvents streams the lifecycle events of containers and pod
// sandboxes (a pod's own events carry its ID as the container ID), each
// with the pod's status and its containers' statuses as they are when it
// is sent: kubelet's evented PLEG reads them instead of relisting. A
// client that falls too far behind is ended with ResourceExhausted; berth
// never waits for it.
func (s *Server) GetContainerEvents(req *runtimeapi.GetEventsRequest, stream runtimeapi.RuntimeService_GetContainerEventsServer) error {
	sub := s.events.Subscribe()
	defer sub.Close()
	eventSubscribers.Inc()
	defer eventSubscribers.Dec()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case ev, open := <-sub.Events():
			if !open {
				return subscriptionEnd(sub.Err())
			}
			if err := stream.Send(s.containerEvent(ev)); err != nil {
				return err
			}
		}
	}
}

// subscriptionEnd is the status a stream ends with when berth ended its
// subscription.
func subscriptionEnd(why error) error {
	if errors.Is(why, events.ErrTooSlow) {
		return status.Error(codes.ResourceExhausted, why.Error())
	}
	return status.Error(codes.Unavailable, why.Error())
}

func (s *Server) containerEvent(ev events.Event) *runtimeapi.ContainerEventResponse {
	resp := &runtimeapi.ContainerEventResponse{
		ContainerId:        ev.ID,
		ContainerEventType: criEventType(ev.Kind),
		CreatedAt:          ev.Time.UnixNano(),
		ContainersStatuses: s.podContainerStatuses(ev.SandboxID),
	}
	if rec, err := s.sandboxes.Status(ev.SandboxID); err == nil {
		resp.PodSandboxStatus = criSandboxStatus(&rec)
	}
	return resp
}

// podContainerStatuses are the statuses of the pod's containers.
func (s *Server) podContainerStatuses(sandboxID string) []*runtimeapi.ContainerStatus {
	recs := s.containers.OfPod(sandboxID)
	out := make([]*runtimeapi.ContainerStatus, len(recs))
	for i, rec := range recs {
		out[i] = containerStatus(rec)
	}
	return out
}

func criEventType(k events.Kind) runtimeapi.ContainerEventType {
	switch k {
	case events.Created:
		return runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT
	case events.Started:
		return runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT
	case events.Stopped:
		return runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT
	}
	return runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT
}
