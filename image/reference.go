package image

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// dockerHub is how image names spell Docker Hub; go-containerregistry calls
// it index.docker.io.
const dockerHub = "docker.io"

// Reference is a normalized image reference: "busybox" becomes repository
// "docker.io/library/busybox" with tag "latest", as kubelet and crictl expect.
type Reference struct {
	Repository string // registry host and path, e.g. "registry.k8s.io/pause"
	Tag        string // empty when only a digest was given
	Digest     string // "sha256:...", empty when not given
}

// ParseReference normalizes s. A reference with both tag and digest keeps
// both; the digest decides what is pulled.
func ParseReference(s string) (Reference, error) {
	if s == "" || strings.TrimSpace(s) != s || strings.Contains(s, "//") {
		return Reference{}, fmt.Errorf("%w %q", ErrInvalidReference, s)
	}
	base, digest, hasDigest := strings.Cut(s, "@")
	var r Reference
	if hasDigest {
		d, err := name.NewDigest("example.invalid/x@"+digest, name.StrictValidation)
		if err != nil {
			return Reference{}, fmt.Errorf("%w %q: %v", ErrInvalidReference, s, err)
		}
		r.Digest = d.DigestStr()
	}
	tag, err := name.NewTag(base, name.WeakValidation)
	if err != nil {
		return Reference{}, fmt.Errorf("%w %q: %v", ErrInvalidReference, s, err)
	}
	repo := tag.Context()
	// The registry client takes "/" or "a/" as a repository with an empty
	// path component, which no registry serves and nothing parses back.
	if path := repo.RepositoryStr(); path == "" || slices.Contains(strings.Split(path, "/"), "") {
		return Reference{}, fmt.Errorf("%w %q: empty path component", ErrInvalidReference, s)
	}
	host := repo.RegistryStr()
	if host == name.DefaultRegistry {
		host = dockerHub
	}
	r.Repository = host + "/" + repo.RepositoryStr()
	// The normalized name must be one too ("library/" can push a long
	// name past the 255-character limit).
	if _, err := name.NewRepository(r.Repository, name.WeakValidation); err != nil {
		return Reference{}, fmt.Errorf("%w %q: %v", ErrInvalidReference, s, err)
	}
	// A bare digest reference has no tag; otherwise the tag defaults to latest.
	if !hasDigest || tagGiven(base) {
		r.Tag = tag.TagStr()
	}
	return r, nil
}

// tagGiven says whether the part before any digest names a tag (a colon
// after the last slash; a colon before it belongs to a registry port).
func tagGiven(base string) bool {
	return strings.Contains(base[strings.LastIndex(base, "/")+1:], ":")
}

// Host is the registry part of the repository.
func (r Reference) Host() string {
	host, _, _ := strings.Cut(r.Repository, "/")
	return host
}

// Path is the repository without its registry.
func (r Reference) Path() string {
	_, path, _ := strings.Cut(r.Repository, "/")
	return path
}

// TagRef is "repo:tag", or "" without a tag.
func (r Reference) TagRef() string {
	if r.Tag == "" {
		return ""
	}
	return r.Repository + ":" + r.Tag
}

// DigestRef is "repo@digest" for the given digest.
func (r Reference) DigestRef(digest string) string { return r.Repository + "@" + digest }

// String is the canonical form: repo:tag@digest, repo@digest or repo:tag.
func (r Reference) String() string {
	s := r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// on returns the reference as go-containerregistry should fetch it from
// location ("host[:port][/prefix]", the registry itself or a mirror).
func (r Reference) on(location string, insecure bool) (name.Reference, error) {
	s := location + "/" + r.Path()
	if r.Digest != "" {
		s += "@" + r.Digest
	} else {
		s += ":" + r.Tag
	}
	opts := []name.Option{name.StrictValidation}
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(s, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidReference, s, err)
	}
	return ref, nil
}
