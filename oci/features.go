package oci

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Features is what a runtime handler can do, as probed from
// `<runtime> features` (a runtime without that command can do nothing
// optional).
type Features struct {
	RecursiveReadOnlyMounts bool
	IDMappedMounts          bool
	UserNamespaces          bool // user namespaces with idmapped mounts, as kubelet needs
}

var featureCache sync.Map // runtime path → Features

// Features probes the runtime once and remembers the answer.
func (r *Runtime) Features() Features {
	if f, ok := featureCache.Load(r.Path); ok {
		return f.(Features)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var f Features
	out, err := r.run(ctx, "", "features")
	if err != nil {
		logrus.WithField("runtime", r.Handler).WithError(err).Info("runtime cannot tell its features; none advertised")
	} else {
		f = parseFeatures(out)
	}
	featureCache.Store(r.Path, f)
	return f
}

func parseFeatures(out []byte) Features {
	var raw struct {
		MountOptions []string `json:"mountOptions"`
		Linux        struct {
			Namespaces      []string `json:"namespaces"`
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
		IDMappedMounts:          idmap,
		UserNamespaces:          idmap && slices.Contains(raw.Linux.Namespaces, "user"),
	}
}
