package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
)

func TestNoSpace(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&fs.PathError{Op: "write", Path: "/var/lib/berth/x", Err: syscall.ENOSPC}, true},
		{fmt.Errorf("unpack layer: %w", &fs.PathError{Op: "mkdir", Path: "/a", Err: syscall.EDQUOT}), true},
		{errors.New("runc create: write /run/runc/x/state.json: no space left on device"), true},
		{errors.New("mkdir /a: Disk quota exceeded"), true},
		{&fs.PathError{Op: "open", Path: "/a", Err: syscall.ENOENT}, false},
		{errors.New("space is fine"), false},
	} {
		if got := NoSpace(tt.err); got != tt.want {
			t.Errorf("NoSpace(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
