package container

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/trace"
	"github.com/berth-dev/berth/oci"
	"github.com/berth-dev/berth/spec"
)

// State is a container's CRI state.
type State string

const (
	Created State = "created"
	Running State = "running"
	Exited  State = "exited"
)

// Config is what a container is made from: the CRI ContainerConfig as
// plain Go, translated by the server. The spec's part is embedded.
type Config struct {
	Name    string `json:"name"`
	Attempt uint32 `json:"attempt"`
	// Image is the image asked for, a name or an ID; UserSpecifiedImage
	// is the pod spec's name for it (kubelet asks by ID).
	Image              string            `json:"image"`
	UserSpecifiedImage string            `json:"user_specified_image,omitempty"`
	Labels             map[string]string `json:"labels,omitempty"`
	// LogPath is the log file's path relative to the pod's log directory.
	LogPath   string `json:"log_path,omitempty"`
	Stdin     bool   `json:"stdin,omitempty"`
	StdinOnce bool   `json:"stdin_once,omitempty"`
	// StopSignal is the config's stop signal by name; "" takes the image's
	// STOPSIGNAL, else SIGTERM.
	StopSignal string `json:"stop_signal,omitempty"`

	spec.Container
}

// Pod is what a container needs from its (ready) pod sandbox.
type Pod struct {
	spec.Pod
	Name      string
	Namespace string
	UID       string
	// CgroupParent is the pod's cgroup parent, resolved (oci.CgroupParent).
	CgroupParent string
	LogDir       string
	// RootfsDir, when set, is where the pod's containers have their rootfs
	// mount points instead of in their private bundles: the pod's user
	// namespace dir (sandbox.Record.UsernsDir).
	RootfsDir string
	// Runtime is the pod's runtime handler; its containers use it too.
	Runtime *oci.Runtime
}

// FullName is the name reserved for a container: unique per container of a
// pod and attempt, in the form kubelet's other runtimes use.
func FullName(cfg *Config, pod *Pod) string {
	return fmt.Sprintf("k8s_%s_%s_%s_%s_%d", cfg.Name, pod.Name, pod.Namespace, pod.UID, cfg.Attempt)
}

// User is the identity a container's process runs as.
type User struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups,omitempty"` // supplemental
}

// Record is everything berth knows about a container; it is persisted.
type Record struct {
	ID        string `json:"id"`
	SandboxID string `json:"sandbox_id"`
	Name      string `json:"name"` // the reserved full name
	Config    Config `json:"container"`
	Image     string `json:"image"`     // what ContainerStatus reports it runs (imageName)
	ImageID   string `json:"image_id"`  // the image's ID (config digest)
	ImageRef  string `json:"image_ref"` // repo digest, else the ID
	Handler   string `json:"handler"`

	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	State      State     `json:"state"`
	ExitCode   int32     `json:"exit_code"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	// Complete is false until the container is made, the runtime's create
	// included (which ends after CreateContainer returns); a record left
	// incomplete by a crash is rolled back at start-up.
	Complete bool `json:"complete"`
	// Startup is when each step of the container's creation and start
	// began and ended.
	Startup trace.Steps `json:"startup,omitempty"`

	Bundle    string `json:"bundle"`     // config.json, pid files, ctl fifo (runroot)
	Rootfs    string `json:"rootfs"`     // the rootfs mount point; "" in records before it: <bundle>/rootfs
	Dir       string `json:"dir"`        // upper and work dirs, conmon's persist dir (root)
	LogPath   string `json:"log_path"`   // the CRI log file
	Pid       int    `json:"pid"`        // init process
	PidStart  uint64 `json:"pid_start"`  // its start time, against pid reuse
	ConmonPid int    `json:"conmon_pid"` //
	// ConmonStart is the monitor's start time: its pid alone may name
	// another process once it is gone.
	ConmonStart uint64 `json:"conmon_start,omitempty"`
	// BootID is the host's boot the container was made in: pids and
	// runroot state of an earlier boot are gone (proc.EarlierBoot).
	BootID     string `json:"boot_id,omitempty"`
	StopSignal string `json:"stop_signal"` // the config's, else the image's; "" = SIGTERM
	// CgroupsPath is the container's cgroup (cgroupfs path or systemd form).
	CgroupsPath string `json:"cgroups_path,omitempty"`
	User        User   `json:"user"`
	// ImageVolumes are the images mounted into the container; like its own
	// image, they are in use while it exists.
	ImageVolumes []ImageVolume `json:"image_volumes,omitempty"`
	// RuntimeDeleted says the OCI runtime no longer knows the container:
	// it was deleted from it (and its cgroup removed) once it exited.
	RuntimeDeleted bool `json:"runtime_deleted,omitempty"`
	// Resources are the ones in force: the config's, then the last
	// UpdateContainerResources'.
	Resources *spec.Resources `json:"resources,omitempty"`
}

// rebootedMessage explains the exit of a container the host rebooted under.
const rebootedMessage = "the node rebooted; the container's process is gone"

// reconcileReboot makes a record of an earlier boot say what is true now:
// its processes are gone (their pids may be anyone's), so it has exited,
// with an unknown code, and nothing of it is to be signalled. Its logs and
// record stay until kubelet removes it. It reports whether it changed rec.
func (r *Record) reconcileReboot() bool {
	if !proc.EarlierBoot(r.BootID) {
		return false
	}
	if r.State != Exited {
		r.State, r.ExitCode, r.FinishedAt = Exited, 255, time.Now()
		r.Reason, r.Message = ReasonError, rebootedMessage
	}
	r.Pid, r.PidStart, r.ConmonPid, r.ConmonStart = 0, 0, 0, 0
	r.BootID = proc.BootID()
	return true
}

// RootfsPath is where the container's rootfs is mounted.
func (r *Record) RootfsPath() string {
	if r.Rootfs == "" {
		return filepath.Join(r.Bundle, "rootfs")
	}
	return r.Rootfs
}

// RecordID and IsComplete make a Record recoverable (store.Recover).
func (r Record) RecordID() string { return r.ID }
func (r Record) IsComplete() bool { return r.Complete }

// Container is one container in memory.
type Container struct {
	// op serialises slow operations (start, stop, remove, update) on this
	// container only.
	op  sync.Mutex
	mu  sync.RWMutex // guards rec; never held across slow work
	rec Record
	// persisting serialises writing the record to the store with deleting
	// it; removed, which it guards, says the record is deleted. A save
	// that lost a race with the removal (a status refresh, or a stop that
	// waited for the remove to finish) must not write the record back: a
	// restart would bring the removed container back and reserve its name.
	persisting sync.Mutex
	removed    bool
	// starting is set (under mu) while Start runs the runtime's start: an
	// exit seen meanwhile is Start's to announce, after the start.
	starting bool
	// createErr, under mu, is why the runtime's create of the container
	// failed (createInRuntime), for StartContainer.
	createErr error
	// monitor, under mu, watches conmon's exit while the container has
	// not exited (nil: not watched, its state is read on every look).
	monitor *proc.Watch
	// released, under mu, is set when the delete from the runtime that
	// follows an exit begins, and closed when it ends (releaseAfterExit).
	released chan struct{}
}

// ID returns the container ID.
func (c *Container) ID() string { return c.rec.ID } // never changes

// createdAt returns when the container was created.
func (c *Container) createdAt() time.Time { return c.rec.CreatedAt } // never changes

// Snapshot returns a copy of the record.
func (c *Container) Snapshot() Record {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rec
}

func (c *Container) update(fn func(r *Record)) Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(&c.rec)
	return c.rec
}

// createError is why the runtime's create of the container failed, or nil.
// After a restart only the record's message is left of it.
func (c *Container) createError() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.createErr != nil {
		return c.createErr
	}
	if r := &c.rec; r.Reason == ReasonStartError && r.StartedAt.IsZero() {
		return errors.New(r.Message)
	}
	return nil
}
