// Package ids finds objects by full ID or by a unique ID prefix, as crictl
// users type them.
package ids

import "strings"

// Match is what Lookup found.
type Match int

const (
	None      Match = iota // no ID has the prefix
	Found                  // one ID has it
	Ambiguous              // several do
)

// Lookup returns the object whose ID is idOrPrefix, or else the only one
// whose ID starts with it.
func Lookup[T any](m map[string]T, idOrPrefix string) (T, Match) {
	var zero T
	if v, ok := m[idOrPrefix]; ok {
		return v, Found
	}
	found, match := zero, None
	for id, v := range m {
		if strings.HasPrefix(id, idOrPrefix) {
			if match == Found {
				return zero, Ambiguous
			}
			found, match = v, Found
		}
	}
	return found, match
}

// Values returns the map's values, for a snapshot taken under a lock.
func Values[T any](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
