package container

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	metadata "github.com/checkpoint-restore/checkpointctl/lib"
	"github.com/moby/go-archive"
	"github.com/moby/go-archive/compression"
	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/oci"
)

// criuTimeout bounds `criu check`, run once, at the first checkpoint.
const criuTimeout = 30 * time.Second

// checkCRIU probes once whether the host can checkpoint; the answer is
// logged once and kept.
func checkCRIU() error {
	ctx, cancel := context.WithTimeout(context.Background(), criuTimeout)
	defer cancel()
	err := oci.CheckCRIU(ctx)
	if err != nil {
		logrus.WithError(err).Warn("CheckpointContainer is unavailable")
	}
	return err
}

// Checkpoint writes a checkpoint archive of a running container to
// location, and the container keeps running (kubelet's forensic container
// checkpointing). The archive is the one CRI-O and checkpointctl read: the
// CRIU images in checkpoint/, CRIU's dump.log, config.dump (what the
// container is), spec.dump (its OCI spec), rootfs-diff.tar (what it wrote
// to its root filesystem, deletions as whiteouts) and deleted.files.
//
// The archive appears at location whole or not at all; nothing else is
// left behind on failure.
func (m *Manager) Checkpoint(ctx context.Context, id, location string) error {
	if !filepath.IsAbs(location) || filepath.Clean(location) != location || location == "/" {
		return invalidf("the checkpoint location must be a clean absolute file path, got %q", location)
	}
	if st, err := os.Stat(filepath.Dir(location)); err != nil || !st.IsDir() {
		return invalidf("the checkpoint location's directory %s does not exist", filepath.Dir(location))
	}
	c, err := m.Get(id)
	if err != nil {
		return err
	}
	if err := m.lockOp(c); err != nil {
		return err
	}
	defer c.op.Unlock()
	m.refresh(c)
	rec := c.Snapshot()
	if rec.State != Running {
		return fmt.Errorf("%w: container %s is %s; only a running container can be checkpointed", ErrNotRunning, rec.ID, rec.State)
	}
	if err := m.criu(); err != nil {
		return fmt.Errorf("%w: %w", ErrFailedPrecondition, err)
	}
	rt, err := m.opts.Runtimes.Get(rec.Handler)
	if err != nil {
		return err
	}
	staging, err := os.MkdirTemp(rec.Dir, "checkpoint-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	if err := rt.Checkpoint(ctx, rec.ID, filepath.Join(staging, metadata.CheckpointDirectory), staging); err != nil {
		return err
	}
	if err := writeCheckpointFiles(staging, &rec, rt.Handler); err != nil {
		return err
	}
	if err := writeTar(staging, location, nil); err != nil {
		return err
	}
	logrus.WithFields(logrus.Fields{"container": rec.ID, "archive": location}).Info("container checkpointed")
	return nil
}

// writeCheckpointFiles adds berth's part of the archive next to CRIU's.
func writeCheckpointFiles(dir string, rec *Record, handler string) error {
	cfg := metadata.ContainerConfig{
		ID:              rec.ID,
		Name:            rec.Config.Name,
		RootfsImage:     userImage(&rec.Config),
		RootfsImageRef:  rec.ImageID,
		RootfsImageName: rec.Image,
		OCIRuntime:      handler,
		CreatedTime:     rec.CreatedAt,
		CheckpointedAt:  time.Now().UTC(),
	}
	if _, err := metadata.WriteJSONFile(cfg, dir, metadata.ConfigDumpFile); err != nil {
		return err
	}
	spec, err := os.ReadFile(filepath.Join(rec.Bundle, "config.json"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, metadata.SpecDumpFile), spec, 0o600); err != nil {
		return err
	}
	upper := upperDir(rec)
	deleted, err := whiteouts(upper)
	if err != nil {
		return err
	}
	if _, err := metadata.WriteJSONFile(deleted, dir, metadata.DeletedFilesFile); err != nil {
		return err
	}
	// Overlay's whiteouts become the .wh. files of image layers.
	return writeTar(upper, filepath.Join(dir, metadata.RootFsDiffTar), &archive.TarOptions{WhiteoutFormat: archive.OverlayWhiteoutFormat})
}

// whiteouts lists the files of the image the container deleted: overlay
// marks each with a 0:0 character device in the upper dir.
func whiteouts(upper string) ([]string, error) {
	deleted := []string{}
	err := filepath.WalkDir(upper, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeCharDevice == 0 {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Rdev == 0 {
			rel, _ := filepath.Rel(upper, path)
			deleted = append(deleted, "/"+rel)
		}
		return nil
	})
	return deleted, err
}

// userImage is the image as the pod spec names it.
func userImage(cfg *Config) string {
	if cfg.UserSpecifiedImage != "" {
		return cfg.UserSpecifiedImage
	}
	return cfg.Image
}

// writeTar writes an uncompressed tar of dir to file, through a temporary
// file in file's directory renamed into place: a reader never sees half an
// archive.
func writeTar(dir, file string, opts *archive.TarOptions) error {
	if opts == nil {
		opts = &archive.TarOptions{}
	}
	opts.Compression = compression.None
	tr, err := archive.TarWithOptions(dir, opts)
	if err != nil {
		return err
	}
	defer tr.Close()
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails once renamed
	_, err = io.Copy(tmp, tr)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return os.Rename(tmp.Name(), file)
}
