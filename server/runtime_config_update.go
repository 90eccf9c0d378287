package server

import (
	"context"
	"net"
	"strings"

	"github.com/sirupsen/logrus"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdateRuntimeConfig takes the pod CIDR kubelet sends. Pod addresses come
// from the CNI config (host-local ranges), so berth only checks and logs it.
func (s *Server) UpdateRuntimeConfig(ctx context.Context, req *runtimeapi.UpdateRuntimeConfigRequest) (*runtimeapi.UpdateRuntimeConfigResponse, error) {
	cidr := req.GetRuntimeConfig().GetNetworkConfig().GetPodCidr()
	if cidr != "" {
		for _, c := range strings.Split(cidr, ",") {
			if _, _, err := net.ParseCIDR(c); err != nil {
				return nil, invalid("pod CIDR %q: %v", c, err)
			}
		}
		logrus.WithField("pod_cidr", cidr).Debug("pod CIDR from kubelet")
	}
	return &runtimeapi.UpdateRuntimeConfigResponse{}, nil
}
