// Package trash deletes directory trees in the background. Discard moves
// a tree into the trash dir with one rename, so the caller (a
// RemoveContainer that kubelet waits on) does not pay for every file the
// container wrote; a worker deletes what the trash holds, and what a crash
// left there is deleted when the trash is opened again.
package trash

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Bin is one trash dir. The trees it takes must be on its filesystem (a
// rename cannot cross one) and must hold no mounts: deleting a tree deletes
// through any mount left in it, as os.RemoveAll would have in the caller.
type Bin struct {
	dir  string
	seq  atomic.Uint64
	wake chan struct{}
}

// Open makes dir (private to root) and starts its worker, which begins
// with whatever an earlier run left there.
func Open(dir string) (*Bin, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("trash dir: %w", err)
	}
	b := &Bin{dir: dir, wake: make(chan struct{}, 1)}
	b.wake <- struct{}{}
	go b.work()
	return b, nil
}

// Discard moves path into the trash; it is deleted soon after. A path that
// does not exist is fine. If the rename fails (path on another
// filesystem), or b is nil (no trash), path is deleted here instead.
func (b *Bin) Discard(path string) error {
	if b == nil {
		return os.RemoveAll(path)
	}
	// Unique across runs: a leftover of the same name may wait its turn.
	name := filepath.Base(path) + "." + strconv.FormatInt(time.Now().UnixNano(), 36) + "." + strconv.FormatUint(b.seq.Add(1), 36)
	err := os.Rename(path, filepath.Join(b.dir, name))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		logrus.WithError(err).WithField("path", path).Debug("not moved to the trash; deleting it in place")
		return os.RemoveAll(path)
	}
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

func (b *Bin) work() {
	for range b.wake {
		for {
			entries, err := os.ReadDir(b.dir)
			if err != nil {
				logrus.WithError(err).WithField("dir", b.dir).Warn("reading the trash")
				break
			}
			if len(entries) == 0 {
				break
			}
			for _, e := range entries {
				p := filepath.Join(b.dir, e.Name())
				if err := os.RemoveAll(p); err != nil {
					// Left for the next wake, with the cause in the log;
					// removing it again at once would fail the same way.
					logrus.WithError(err).WithField("path", p).Warn("deleting from the trash")
				}
			}
			if !b.changedSince() {
				break
			}
		}
	}
}

// changedSince reports (and consumes) a wake that came while the worker
// was deleting: more was discarded, so it looks again.
func (b *Bin) changedSince() bool {
	select {
	case <-b.wake:
		return true
	default:
		return false
	}
}
