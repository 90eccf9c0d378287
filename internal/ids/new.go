package ids

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a fresh ID: 64 hex digits, as kubelet and crictl expect of
// sandbox and container IDs.
func New() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather)
	return hex.EncodeToString(b)
}
