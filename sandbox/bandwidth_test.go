package sandbox

import (
	"testing"
)

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"42", 42, true},
		{"500k", 500_000, true},
		{"10M", 10_000_000, true},
		{"2G", 2_000_000_000, true},
		{"1T", 1_000_000_000_000, true},
		{"3Ki", 3 << 10, true},
		{"10Mi", 10 << 20, true},
		{"1Gi", 1 << 30, true},
		{"1Ti", 1 << 40, true},
		{"1.5M", 0, false},
		{"x", 0, false},
		{"", 0, false},
		{"M", 0, false},
		{"-1M", 0, false},
		{"10m", 0, false}, // milli: not a whole number of bits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseQuantity(tt.in)
			if !tt.ok {
				if err == nil {
					t.Fatalf("parseQuantity(%q) = %d; want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseQuantity(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestBandwidth: no rate in a case means bandwidth must return nil.
func TestBandwidth(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		ingress     uint64
		egress      uint64
	}{
		{name: "no annotations", annotations: nil},
		{name: "unrelated annotations", annotations: map[string]string{"a": "b"}},
		{name: "ingress only", annotations: map[string]string{ingressAnnotation: "10M"}, ingress: 10_000_000},
		{name: "egress only", annotations: map[string]string{egressAnnotation: "1Mi"}, egress: 1 << 20},
		{name: "both", annotations: map[string]string{ingressAnnotation: "1k", egressAnnotation: "2k"}, ingress: 1000, egress: 2000},
		{name: "unparsable only", annotations: map[string]string{ingressAnnotation: "lots"}},
		{name: "unparsable ingress ignored", annotations: map[string]string{ingressAnnotation: "1.5M", egressAnnotation: "5M"}, egress: 5_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bw := bandwidth(tt.annotations)
			if tt.ingress == 0 && tt.egress == 0 {
				if bw != nil {
					t.Fatalf("bandwidth(%v) = %+v; want nil", tt.annotations, bw)
				}
				return
			}
			if bw == nil {
				t.Fatalf("bandwidth(%v) = nil", tt.annotations)
			}
			if bw.IngressRate != tt.ingress || bw.EgressRate != tt.egress {
				t.Fatalf("bandwidth(%v) = %+v; want ingress %d egress %d", tt.annotations, bw, tt.ingress, tt.egress)
			}
			// A rate needs a burst (the plugin rejects one without); no rate, no burst.
			if (bw.IngressRate > 0) != (bw.IngressBurst > 0) || (bw.EgressRate > 0) != (bw.EgressBurst > 0) {
				t.Fatalf("bandwidth(%v) = %+v; want a burst exactly with each rate", tt.annotations, bw)
			}
		})
	}
}
