package sandbox

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/cni"
)

// The pod annotations kubelet's bandwidth limits use (bits per second, as
// Kubernetes quantities such as "10M").
const (
	ingressAnnotation = "kubernetes.io/ingress-bandwidth"
	egressAnnotation  = "kubernetes.io/egress-bandwidth"
)

// bandwidth reads the pod's bandwidth annotations; nil when there are none.
// The burst is left to the plugin's default, as with kubelet's other runtimes.
func bandwidth(annotations map[string]string) *cni.Bandwidth {
	var bw cni.Bandwidth
	for key, rate := range map[string]*uint64{ingressAnnotation: &bw.IngressRate, egressAnnotation: &bw.EgressRate} {
		v, ok := annotations[key]
		if !ok {
			continue
		}
		n, err := parseQuantity(v)
		if err != nil {
			logrus.WithField("annotation", key).WithError(err).Warn("ignoring bandwidth annotation")
			continue
		}
		*rate = n
	}
	if bw.IngressRate == 0 && bw.EgressRate == 0 {
		return nil
	}
	// The bandwidth plugin rejects a rate without a burst.
	if bw.IngressRate > 0 {
		bw.IngressBurst = math.MaxInt32
	}
	if bw.EgressRate > 0 {
		bw.EgressBurst = math.MaxInt32
	}
	return &bw
}

var quantitySuffixes = []struct {
	suffix string
	mult   uint64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
	{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
}

// parseQuantity parses the integer forms of a Kubernetes quantity.
func parseQuantity(s string) (uint64, error) {
	mult := uint64(1)
	for _, q := range quantitySuffixes {
		if n, ok := strings.CutSuffix(s, q.suffix); ok {
			s, mult = n, q.mult
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > math.MaxUint64/mult {
		return 0, fmt.Errorf("quantity out of range")
	}
	return n * mult, nil
}
