package fsutil

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
)

// Usage is what a directory tree takes on disk.
type Usage struct {
	Bytes  uint64 // allocated blocks, as du counts them
	Inodes uint64 // each hard-linked inode once
}

// DiskUsage counts the bytes (allocated blocks) and inodes under dir. A
// file that vanishes during the walk (a container is writing there) is
// left out, not an error; a dir that is not there is zero.
func DiskUsage(dir string) (Usage, error) {
	var u Usage
	seen := map[uint64]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok || seen[st.Ino] {
			return nil
		}
		seen[st.Ino] = true
		u.Inodes++
		u.Bytes += uint64(st.Blocks) * 512
		return nil
	})
	return u, err
}
