// Package image pulls images from OCI registries into berth's layer store
// and keeps the index of images, tags and digests.
package image

import "errors"

// Errors callers tell apart (server maps them to gRPC codes).
var (
	ErrInvalidReference = errors.New("invalid image reference")
	ErrNotFound         = errors.New("image not found")
	ErrBlocked          = errors.New("registry is blocked by configuration")
	ErrInUse            = errors.New("image in use")
	ErrNoProgress       = errors.New("image pull made no progress")
	// ErrTooLarge marks a manifest, config or layer count over its bound.
	ErrTooLarge = errors.New("image too large")
	// ErrRegistryConfig marks a certs.d directory (image.certs_dir) that
	// does not load: a broken hosts.toml, a missing CA or key.
	ErrRegistryConfig = errors.New("registry configuration")
)
