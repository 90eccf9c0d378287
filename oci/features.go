package oci

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/sirupsen/logrus"
)

// Features is what a runtime handler can do, as probed from
// `<runtime> features` (a runtime without that command can do nothing
// optional).
type Features struct {
	RecursiveReadOnlyMounts bool
	UserNamespaces          bool // user namespaces with idmapped mounts, as kubelet needs
	Seccomp                 bool // built with seccomp (runc needs libseccomp at build time)
}

// Features probes the runtime the first time it is asked and keeps the
// answer: a runtime binary does not change under a running berth.
func (r *Runtime) Features() Features {
	r.featuresOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := r.run(ctx, "", "features")
		if err != nil {
			logrus.WithField("runtime", r.Handler).WithError(err).Info("runtime cannot tell its features; none advertised")
			return
		}
		r.features = parseFeatures(out)
	})
	return r.features
}

func parseFeatures(out []byte) Features {
	var raw struct {
		MountOptions []string `json:"mountOptions"`
		Linux        struct {
			Namespaces []string `json:"namespaces"`
			Seccomp    struct {
				Enabled *bool `json:"enabled"`
			} `json:"seccomp"`
			MountExtensions struct {
				IDMap struct {
					Enabled *bool `json:"enabled"`
				} `json:"idmap"`
			} `json:"mountExtensions"`
		} `json:"linux"`
	}
	if json.Unmarshal(out, &raw) != nil {
		return Features{}
	}
	idmap := raw.Linux.MountExtensions.IDMap.Enabled != nil && *raw.Linux.MountExtensions.IDMap.Enabled
	return Features{
		RecursiveReadOnlyMounts: slices.Contains(raw.MountOptions, "rro"),
		UserNamespaces:          idmap && slices.Contains(raw.Linux.Namespaces, "user"),
		Seccomp:                 raw.Linux.Seccomp.Enabled != nil && *raw.Linux.Seccomp.Enabled,
	}
}
