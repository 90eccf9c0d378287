package image

import (
	"fmt"
	"slices"
	"strings"
)

// Pins are the images kubelet's image garbage collection must keep: an
// image is reported pinned when one of its names matches. A pattern is a
// reference, matched after normalization ("busybox:1" is
// docker.io/library/busybox:1, and a name with a digest matches by it),
// or ends in "*" and matches every name that starts with the rest
// ("registry.k8s.io/*"), as CRI-O's pinned_images do.
type Pins struct {
	exact    map[string]bool
	prefixes []string
}

// ParsePins parses the patterns of image.pinned_images (and the pause
// image).
func ParsePins(patterns []string) (Pins, error) {
	p := Pins{exact: map[string]bool{}}
	for _, pat := range patterns {
		if prefix, ok := strings.CutSuffix(pat, "*"); ok {
			if prefix == "" || strings.Contains(prefix, "*") {
				return Pins{}, fmt.Errorf("pinned image %q: a pattern is a reference or a name prefix ending in one \"*\"", pat)
			}
			p.prefixes = append(p.prefixes, prefix)
			continue
		}
		r, err := ParseReference(pat)
		if err != nil {
			return Pins{}, fmt.Errorf("pinned image: %w", err)
		}
		if r.Digest != "" {
			p.exact[r.DigestRef(r.Digest)] = true
		} else {
			p.exact[r.TagRef()] = true
		}
	}
	return p, nil
}

// Match says whether one of img's names is pinned.
func (p Pins) Match(img *Image) bool {
	for _, n := range slices.Concat(img.RepoTags, img.RepoDigests) {
		if p.exact[n] || slices.ContainsFunc(p.prefixes, func(prefix string) bool { return strings.HasPrefix(n, prefix) }) {
			return true
		}
	}
	return false
}
