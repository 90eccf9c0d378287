// Package ids finds objects by full ID or by a unique ID prefix, as crictl
// users type them.
package ids

import (
	"fmt"
	"strings"
)

// Find returns the object whose ID is idOrPrefix, or else the only one whose
// ID starts with it. No match wraps notFound; a prefix of several IDs wraps
// ambiguous; kind ("sandbox", "container") names the objects in messages.
func Find[T any](m map[string]T, idOrPrefix, kind string, notFound, ambiguous error) (T, error) {
	var zero T
	if idOrPrefix == "" {
		return zero, fmt.Errorf("%w: empty %s ID", notFound, kind)
	}
	if v, ok := m[idOrPrefix]; ok {
		return v, nil
	}
	found, n := zero, 0
	for id, v := range m {
		if strings.HasPrefix(id, idOrPrefix) {
			found, n = v, n+1
		}
	}
	switch n {
	case 0:
		return zero, fmt.Errorf("%w: %q", notFound, idOrPrefix)
	case 1:
		return found, nil
	}
	return zero, fmt.Errorf("%w: ID prefix %q matches more than one %s", ambiguous, idOrPrefix, kind)
}

// Values returns the map's values, for a snapshot taken under a lock.
func Values[T any](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
