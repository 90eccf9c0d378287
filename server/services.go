package server

import (
	"context"
	"io"
	"time"

	"github.com/berth-dev/berth/cni"
	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/fsutil"
	"github.com/berth-dev/berth/internal/trace"
	"github.com/berth-dev/berth/sandbox"
	"github.com/berth-dev/berth/spec"
)

// The managers the RPCs call, as small interfaces (in the style of
// cri-api's services.go) so that handlers can be tested against fakes.
// New wires the real ones: sandbox.Manager, container.Manager, image.Store,
// image.Puller and cni.Manager.

// PodSandboxManager runs pod sandboxes.
type PodSandboxManager interface {
	Run(ctx context.Context, cfg sandbox.Config) (string, error)
	Stop(ctx context.Context, id string) error
	Remove(ctx context.Context, id string) error
	Status(id string) (sandbox.Record, error)
	List() []sandbox.Record // oldest first
	UpdateResources(id string, res spec.Resources) error
	Stats(id string) (sandbox.Record, sandbox.Stats, error)
	StatsOf(rec *sandbox.Record) sandbox.Stats
	PortForward(ctx context.Context, id string, port int32, stream io.ReadWriteCloser) error
}

// ContainerManager runs containers.
type ContainerManager interface {
	Create(ctx context.Context, pod container.Pod, cfg *container.Config) (string, error)
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, timeout time.Duration) error
	Remove(ctx context.Context, id string) error
	Status(id string) (container.Record, error)
	Running(id string) (container.Record, error)
	List() []container.Record // oldest first
	OfPod(sandboxID string) []container.Record
	Startup(id string) (trace.Steps, error)
	Stats(id string) (container.Record, container.Stats, error)
	StatsOf(rec *container.Record) container.Stats
	WritableLayers() fsutil.Usage
	UpdateResources(ctx context.Context, id string, res spec.Resources) error
	Checkpoint(ctx context.Context, id, location string) error
	ReopenLog(id string) error
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (container.ExecResult, error)
	Exec(ctx context.Context, id string, cmd []string, s container.Streams) error
	Attach(ctx context.Context, id string, s container.Streams) error
	InUse(imageID string) bool
	// WaitCreates waits for every create at work, at shutdown.
	WaitCreates(ctx context.Context) error
}

// ImageStore holds the pulled images.
type ImageStore interface {
	Get(ref string) (*image.Image, error)
	List() []*image.Image
	Remove(ref string, inUse func(imageID string) bool) error
	Usage() (bytes, inodes uint64)
	Dir() string
	Import(ctx context.Context, path string) ([]*image.Image, error)
	ExportCheck(ref string) (*image.Image, error)
	Export(ref string, w io.Writer) error
}

// ImagePuller pulls images from registries.
type ImagePuller interface {
	Pull(ctx context.Context, ref string, auth image.Auth) (*image.Image, error)
	SetRegistries(r map[string]config.RegistryConfig)
	SetProgressTimeout(d time.Duration)
	SetAuthFile(a *image.AuthFile)
	SetHostsDir(d image.HostsDir)
}

// Network is the pod network (CNI) as the runtime status sees it.
type Network interface {
	Ready() error
	State() cni.State
	Reload(cfg config.CNIConfig)
}
