package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/events"
	"github.com/berth-dev/berth/internal/ids"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/trace"
	"github.com/berth-dev/berth/internal/undo"
	"github.com/berth-dev/berth/oci"
	"github.com/berth-dev/berth/spec"
)

// Create creates a container in a pod; it is left created, not started.
//
// It returns once the container is prepared (record, rootfs, spec): the
// OCI runtime's create, under conmon, goes on in the background
// (createInRuntime), and StartContainer and every other operation on the
// container wait for it. That is how containerd spends CreateContainer
// too (its task is made by StartContainer), and a client that does
// anything between the two calls has the runtime's create done meanwhile.
//
// As with sandboxes, the work goes on when ctx ends, and kubelet's retry
// with the same name waits for it and gets this container.
func (m *Manager) Create(ctx context.Context, pod Pod, cfg *Config) (string, error) {
	if cfg.Name == "" {
		return "", invalidf("container metadata with a name is required")
	}
	if cfg.Image == "" {
		return "", invalidf("container image is required")
	}
	if pod.Runtime == nil {
		return "", invalidf("pod %s has no runtime handler", pod.ID)
	}
	// Whatever can be refused is refused before anything is made.
	if err := spec.Check(&cfg.Container); err != nil {
		return "", err
	}
	img, err := m.opts.Images.Get(cfg.Image)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", cfg.Image, err)
	}
	var imgCfg v1.ConfigFile
	if err := json.Unmarshal(img.Config, &imgCfg); err != nil {
		return "", fmt.Errorf("image %s config: %w", img.ID, err)
	}
	imgMounts, err := m.findImageMounts(cfg.Mounts)
	if err != nil {
		return "", err
	}
	id := ids.New()
	name := FullName(cfg, &pod)
	return m.names.Create(ctx, name, id, func(ctx context.Context) error {
		images := []string{img.ID}
		for _, im := range imgMounts {
			images = append(images, im.image.ID)
		}
		end, err := m.beginCreate(id, pod.ID, images)
		if err != nil {
			return err
		}
		c, err := m.prepare(id, name, pod, cfg, createImages{img: img, cfg: imgCfg.Config, mounts: imgMounts})
		if err != nil {
			end()
			return err
		}
		go func() {
			defer end()
			m.createInRuntime(c, pod.Runtime)
		}()
		return nil
	})
}

// createImages is what Create found of a container's images.
type createImages struct {
	img    *image.Image
	cfg    v1.Config
	mounts []imageMount // image volumes
}

// prepare makes all of a container but its runtime's create: its record
// (incomplete until that create ends), dirs, rootfs and spec. It returns
// the container listed, its operation lock held for createInRuntime.
func (m *Manager) prepare(id, name string, pod Pod, cfg *Config, images createImages) (_ *Container, err error) {
	log := logrus.WithFields(logrus.Fields{"container": id, "sandbox": pod.ID})
	img := images.img
	rt := pod.Runtime
	target := ""
	if cfg.Security.PID == spec.PIDTarget {
		target = cfg.Security.TargetID
	}
	targetPID, err := m.targetPID(target)
	if err != nil {
		return nil, err
	}
	stopSignal := cfg.StopSignal
	if stopSignal == "" {
		stopSignal = images.cfg.StopSignal
	}
	rec := Record{
		ID:          id,
		SandboxID:   pod.ID,
		Name:        name,
		Config:      *cfg,
		Image:       imageName(cfg, img),
		ImageID:     img.ID,
		ImageRef:    imageRef(img),
		Handler:     rt.Handler,
		CreatedAt:   time.Now(),
		State:       Created,
		Bundle:      filepath.Join(m.bundlesDir(), id),
		Dir:         filepath.Join(m.dirsDir(), id),
		StopSignal:  stopSignal,
		Resources:   cfg.Resources,
		CgroupsPath: oci.CgroupsPath(m.opts.CgroupDriver, pod.CgroupParent, id),
		BootID:      proc.BootID(),
	}
	rec.LogPath = logPath(pod.LogDir, cfg.LogPath, rec.Bundle)
	rec.Rootfs = filepath.Join(rec.Bundle, "rootfs")
	if pod.RootfsDir != "" {
		rec.Rootfs = filepath.Join(pod.RootfsDir, id)
	}

	var u undo.Stack
	defer func() {
		if err != nil {
			u.Run(log)
		}
	}()
	if err := m.save(rec); err != nil {
		return nil, err
	}
	u.Push("delete record", func() error { return m.opts.DB.Delete(Bucket, id) })
	u.Push("remove dirs", func() error { return m.removeDirs(&rec) })
	if err := os.MkdirAll(rec.Bundle, 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(rec.Dir, "persist"), 0o700); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(rec.LogPath); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create log dir: %w", err)
		}
	}
	rootfs := rec.Rootfs
	end := rec.Startup.Begin("rootfs")
	if err := m.opts.Images.MountRootfs(img, rec.Dir, rootfs); err != nil {
		return nil, err
	}
	u.Push("unmount rootfs", func() error { return image.UnmountRootfs(rootfs) })
	if err := mkdirInRootfs(rootfs, cfg.WorkingDir); err != nil {
		return nil, err
	}
	if rec.ImageVolumes, err = m.mountImageVolumes(rec.Bundle, images.mounts, &u); err != nil {
		return nil, err
	}
	end()
	for _, v := range rec.ImageVolumes {
		log.WithFields(logrus.Fields{"image": v.ImageID, "path": v.ContainerPath, "source": v.Source}).Debug("image volume mounted")
	}

	end = rec.Startup.Begin("spec")
	s, err := m.opts.Host.Build(spec.Input{
		ID: id, Container: &cfg.Container, Pod: pod.Pod, Image: images.cfg, Rootfs: rootfs, CgroupsPath: rec.CgroupsPath,
		ImageMounts: imageMountSources(rec.ImageVolumes), TargetPID: targetPID,
		RecursiveReadOnly: rt.Features().RecursiveReadOnlyMounts,
	})
	if err != nil {
		return nil, err
	}
	if err := makeMountpoints(rootfs, s.Mounts); err != nil {
		return nil, err
	}
	rec.User = User{UID: s.Process.User.UID, GID: s.Process.User.GID, Groups: s.Process.User.AdditionalGids}
	if err := generateFrom(s).SaveToFile(filepath.Join(rec.Bundle, "config.json"), generate.ExportOptions{}); err != nil {
		return nil, fmt.Errorf("write spec: %w", err)
	}

	end()
	c := &Container{rec: rec}
	c.op.Lock()
	m.mu.Lock()
	m.containers[id] = c
	m.mu.Unlock()
	m.publish(events.Created, &rec)
	return c, nil
}

// createInRuntime has the OCI runtime create a prepared container under
// conmon, then unlocks the container's operations. A create that fails
// leaves the container exited, as containerd leaves one whose task could
// not be made: reason StartError, exit code 128, the runtime's message,
// and its runtime state and cgroup deleted; StartContainer returns the
// error, RemoveContainer removes the rest. Until the create ends the
// record stays incomplete, so a crash meanwhile rolls the container back.
func (m *Manager) createInRuntime(c *Container, rt *oci.Runtime) {
	defer c.op.Unlock()
	rec := c.Snapshot()
	log := logrus.WithFields(logrus.Fields{"container": rec.ID, "sandbox": rec.SandboxID})
	var steps trace.Steps
	end := steps.Begin(RuntimeCreateStep)
	ctx, cancel := context.WithTimeout(context.Background(), runtimeCallTimeout)
	defer cancel()
	created, err := m.opts.Monitor.Create(ctx, conmon.CreateOptions{
		ID:          rec.ID,
		Name:        rec.Name,
		Bundle:      rec.Bundle,
		PersistDir:  filepath.Join(rec.Dir, "persist"),
		LogPath:     rec.LogPath,
		Handler:     rt.Handler,
		RuntimePath: rt.Path,
		RuntimeArgs: rt.GlobalArgs(),
		Terminal:    rec.Config.Tty,
		Stdin:       rec.Config.Stdin,
		StdinOnce:   rec.Config.StdinOnce,
	})
	rec.ConmonPid = created.ConmonPid
	if st, serr := proc.ReadStat(rec.ConmonPid); serr == nil {
		rec.ConmonStart = st.StartTime
	}
	if err != nil {
		err = fmt.Errorf("%s create: %w%s", rt.Handler, err, rt.Hint(err.Error()))
	} else if st, serr := proc.ReadStat(created.Pid); serr != nil {
		err = fmt.Errorf("container process %d: %w", created.Pid, serr)
	} else {
		rec.Pid, rec.PidStart = created.Pid, st.StartTime
	}
	end()
	rec.Startup = append(rec.Startup, steps...)
	if err == nil {
		rec.Complete = true
		if err = m.save(rec); err != nil {
			rec.Complete = false // what the store holds: half made
		}
	}
	if err != nil {
		m.failRuntimeCreate(c, rec, err)
		return
	}
	c.update(func(r *Record) { *r = rec })
	m.watchMonitor(c)
	log.WithField("name", rec.Name).Debug("container created")
}

// Exit code and reason of a container whose runtime create failed, as
// containerd reports a container whose task could not be started.
const (
	startErrorExitCode = 128
	ReasonStartError   = "StartError"
)

// failRuntimeCreate deletes what the runtime's failed create of a container
// made and records the container exited with the error.
func (m *Manager) failRuntimeCreate(c *Container, rec Record, err error) {
	log := logrus.WithFields(logrus.Fields{"container": rec.ID, "sandbox": rec.SandboxID})
	log.WithError(err).Info("the runtime's create of the container failed; StartContainer will say so")
	derr := m.releaseRuntime(context.Background(), &rec) // rec is incomplete: its monitor is killed too
	if derr != nil {
		log.WithError(derr).Warn("deleting a container whose create failed from its runtime; RemoveContainer tries again")
	}
	rec.Complete = true
	rec.State, rec.ExitCode, rec.FinishedAt = Exited, startErrorExitCode, time.Now()
	rec.Reason, rec.Message = ReasonStartError, err.Error()
	rec.RuntimeDeleted = derr == nil
	c.update(func(r *Record) {
		*r = rec
		c.createErr = err
		m.publish(events.Stopped, r)
	})
	if err := m.persist(c); err != nil {
		log.WithError(err).Warn("saving container state")
	}
}

// runtimeCallTimeout bounds one OCI runtime call made outside a request.
const runtimeCallTimeout = 2 * time.Minute

// targetPID is the init pid of the container a TARGET-mode PID namespace
// joins; 0 when there is none.
func (m *Manager) targetPID(id string) (int, error) {
	if id == "" {
		return 0, nil
	}
	rec, err := m.Status(id)
	if err != nil {
		return 0, invalidf("PID namespace target %q: %v", id, err)
	}
	if rec.State != Running || !proc.Alive(rec.Pid, rec.PidStart) {
		return 0, invalidf("PID namespace target %q is not running", id)
	}
	return rec.Pid, nil
}

// logPath is the container's CRI log file: the pod's log dir joined with
// the container's relative path. Without them, it goes in the bundle.
func logPath(podDir, rel, bundle string) string {
	if podDir == "" || rel == "" {
		return filepath.Join(bundle, "container.log")
	}
	return filepath.Join(podDir, filepath.Clean("/"+rel))
}

// imageName is the image a container reports it runs: the name the pod
// spec gave (kubelet sends it as user_specified_image and asks for the
// image by ID), else the image's first tag, else what was asked for.
// kubelet compares it with the spec to see that a container whose image
// was updated restarted with the new one.
func imageName(cfg *Config, img *image.Image) string {
	if name := cfg.UserSpecifiedImage; name != "" {
		return name
	}
	if asked := cfg.Image; asked != img.ID || len(img.RepoTags) == 0 {
		return asked
	}
	return img.RepoTags[0]
}

// imageRef is what ContainerStatus reports as the image ref: a repo
// digest when the image has one, as kubelet expects.
func imageRef(img *image.Image) string {
	if len(img.RepoDigests) > 0 {
		return img.RepoDigests[0]
	}
	return img.ID
}

// mkdirInRootfs creates the working directory when the image lacks it, as
// other runtimes do (runc would fail the start otherwise).
func mkdirInRootfs(rootfs, dir string) error {
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) {
		return invalidf("working dir %q must be absolute", dir)
	}
	p, err := securejoin.SecureJoin(rootfs, dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create working dir %s: %w", dir, err)
	}
	return nil
}

// makeMountpoints creates, as berth (host root), the mount points the
// image lacks. The runtime would create them as the container's root, which
// in a user namespace is an unprivileged host user who cannot write to the
// image's directories.
func makeMountpoints(rootfs string, mounts []rspec.Mount) error {
	for _, m := range mounts {
		if m.Type != "bind" {
			continue
		}
		p, err := securejoin.SecureJoin(rootfs, m.Destination)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		st, err := os.Stat(m.Source)
		if err != nil {
			return invalidf("mount source %q: %v", m.Source, err)
		}
		if st.IsDir() {
			err = os.MkdirAll(p, 0o755)
		} else if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
			var f *os.File
			if f, err = os.OpenFile(p, os.O_CREATE|os.O_RDONLY, 0o644); err == nil {
				f.Close()
			}
		}
		if err != nil {
			return fmt.Errorf("create mount point %s: %w", m.Destination, err)
		}
	}
	return nil
}

// removeDirs deletes the container's bundle and upper dirs, and a rootfs
// mount point outside the bundle (unmounted by then).
func (m *Manager) removeDirs(rec *Record) error {
	var errs []error
	// Only ever below berth's own dirs, whatever a record says. Into the
	// trash, not deleted here: a container that wrote many files is
	// removed as fast as one that wrote none (a busybox container's dirs
	// took most of RemoveContainer's 2.7 ms).
	if strings.HasPrefix(rec.Bundle, m.bundlesDir()+"/") {
		errs = append(errs, m.bundlesTrash.Discard(rec.Bundle))
	}
	if strings.HasPrefix(rec.Dir, m.dirsDir()+"/") {
		errs = append(errs, m.dirsTrash.Discard(rec.Dir))
	}
	// Not recursive: a rootfs still mounted there stops it, rather than
	// being deleted through.
	if rootfs := rec.RootfsPath(); !strings.HasPrefix(rootfs, rec.Bundle+"/") {
		if err := os.Remove(rootfs); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func generateFrom(spec *rspec.Spec) *generate.Generator {
	g := generate.NewFromSpec(spec)
	return &g
}
