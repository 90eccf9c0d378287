package fsutil

import (
	"errors"
	"strings"
	"syscall"
)

// NoSpace says whether err is a full disk or an exhausted quota: an errno
// from a write of berth's own, or, from a program berth ran (the runtime,
// conmon), the message it printed for one, which is all that reaches berth.
func NoSpace(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "no space left on device") || strings.Contains(msg, "disk quota exceeded")
}
