package oci

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ErrNotFound is returned for an unknown container ID.
var ErrNotFound = errors.New("container not found")

// ErrNotRunning is returned when an operation needs a running container.
var ErrNotRunning = errors.New("container is not running")

// State is a container's CRI state.
type State string

const (
	Created State = "created"
	Running State = "running"
	Exited  State = "exited"
)

// Record is everything berth knows about a container; it is persisted.
type Record struct {
	ID        string `json:"id"`
	SandboxID string `json:"sandbox_id"`
	Name      string `json:"name"` // the reserved full name
	// Config is the CRI ContainerConfig as protobuf JSON.
	Config   []byte `json:"config"`
	Image    string `json:"image"`     // as asked for
	ImageID  string `json:"image_id"`  // the image's ID (config digest)
	ImageRef string `json:"image_ref"` // repo digest, else the ID
	Handler  string `json:"handler"`

	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	State      State     `json:"state"`
	ExitCode   int32     `json:"exit_code"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	// Complete is false while CreateContainer is at work; a record left
	// incomplete by a crash is rolled back at start-up.
	Complete bool `json:"complete"`

	Bundle     string `json:"bundle"`      // config.json, pid files, ctl fifo (runroot)
	Dir        string `json:"dir"`         // upper and work dirs, conmon's persist dir (root)
	LogPath    string `json:"log_path"`    // the CRI log file
	Pid        int    `json:"pid"`         // init process
	PidStart   uint64 `json:"pid_start"`   // its start time, against pid reuse
	ConmonPid  int    `json:"conmon_pid"`  //
	StopSignal string `json:"stop_signal"` // the CRI config's, else the image's; "" = SIGTERM
	// CgroupsPath is the container's cgroup (cgroupfs path or systemd form).
	CgroupsPath string `json:"cgroups_path,omitempty"`
	User        User   `json:"user"`
	// ImageVolumes are the images mounted into the container; like its own
	// image, they are in use while it exists.
	ImageVolumes []ImageVolume `json:"image_volumes,omitempty"`
	// Resources are the ones in force (after UpdateContainerResources), as
	// protobuf JSON.
	Resources []byte `json:"resources,omitempty"`
}

// CRIConfig decodes the container's CRI config.
func (r *Record) CRIConfig() *runtimeapi.ContainerConfig {
	var c runtimeapi.ContainerConfig
	_ = protojson.Unmarshal(r.Config, &c) // written by berth from a valid message
	return &c
}

// CRIResources decodes the resources in force; nil when none were set.
func (r *Record) CRIResources() *runtimeapi.LinuxContainerResources {
	if len(r.Resources) == 0 {
		return nil
	}
	var res runtimeapi.LinuxContainerResources
	if protojson.Unmarshal(r.Resources, &res) != nil {
		return nil
	}
	return &res
}

// Container is one container in memory.
type Container struct {
	// op serialises slow operations (start, stop, remove, update) on this
	// container only.
	op  sync.Mutex
	mu  sync.RWMutex // guards rec; never held across slow work
	rec Record
}

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

// FullName is the name reserved for a container: unique per container of a
// pod and attempt, in the form kubelet's other runtimes use.
func FullName(cfg *runtimeapi.ContainerConfig, pod Pod) string {
	return fmt.Sprintf("k8s_%s_%s_%s_%s_%d", cfg.GetMetadata().GetName(), pod.Name, pod.Namespace, pod.UID, cfg.GetMetadata().GetAttempt())
}
