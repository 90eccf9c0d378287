// Package server is berth's CRI gRPC layer: one file per RPC, each validating
// its request, calling the packages that do the work, and translating their
// errors into gRPC status codes. No business logic lives here.
package server

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-dev/berth/cni"
	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/conmon"
	"github.com/berth-dev/berth/container"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/events"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/oci"
	"github.com/berth-dev/berth/sandbox"
	"github.com/berth-dev/berth/spec"
)

// Server implements the CRI RuntimeService and ImageService. RPCs not built
// yet fall through to the embedded Unimplemented servers (codes.Unimplemented).
type Server struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	cfgMu sync.RWMutex
	cfg   *config.Config
	pins  image.Pins // image.pinned_images and the pause image

	db         *store.Store
	host       *spec.Host
	runtimes   *oci.Runtimes
	cni        Network
	images     ImageStore
	puller     ImagePuller
	sandboxes  PodSandboxManager
	containers ContainerManager
	events     *events.Broker
	stream     *streamServer
	grpc       *grpc.Server
	// stop ends the managers' background work (the exit watcher).
	stop context.CancelFunc
	// watchRestored starts the watches of what a previous run left, once
	// berth serves (nil in tests with fake managers).
	watchRestored func()
	// flushTraces sends the spans not exported yet (tracing on).
	flushTraces func(context.Context) error
}

// New builds the server for a validated configuration and the host's
// cgroup facts (probed once, at start-up): it probes the rest of the host,
// opens the metadata store under the root, and wires the managers, which
// load what a previous run left.
func New(cfg *config.Config, cg *cgroups.Host) (*Server, error) {
	host, err := spec.Probe(cg, oci.MinOOMScoreAdj(cfg.Runtime.RestrictOOMScoreAdj))
	if err != nil {
		return nil, err
	}
	host.AppArmor.Default = cfg.AppArmorProfile
	host.CDI = spec.NewCDI(cfg.CDI.SpecDirs)
	if err := host.AppArmor.LoadDefault(spec.AppArmorParser()); err != nil {
		return nil, err
	}
	pins, err := pinsOf(cfg)
	if err != nil {
		return nil, err
	}
	authFile, err := loadAuthFile(cfg)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(filepath.Join(cfg.Root, "berth.db"))
	if err != nil {
		return nil, err
	}
	if err := migrateContainerRecords(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("translate container records: %w", err)
	}
	images, err := image.NewStore(filepath.Join(cfg.Root, "images"), db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("load image store: %w", err)
	}
	runtimes := oci.NewRuntimes(cfg.Runtime.Handlers, cfg.Runtime.DefaultHandler)
	net := cni.NewManager(cfg.CNI, filepath.Join(cfg.Root, "cni"))
	broker := events.NewBroker(events.DefaultBuffer, func() { eventSubscribersDropped.Inc() })
	background, stop := context.WithCancel(context.Background())
	if host.Hooks, err = spec.NewHooks(background, cfg.Hooks.Dirs); err != nil {
		stop()
		db.Close()
		return nil, err
	}
	containers, err := container.NewManager(background, container.Options{
		Root:         cfg.Root,
		RunRoot:      cfg.RunRoot,
		CgroupDriver: cfg.CgroupDriver,
		Runtimes:     runtimes,
		Monitor: &conmon.Monitor{
			Path:       cfg.Conmon.Path,
			LogSizeMax: cfg.Conmon.LogSizeMax,
			ExitDir:    filepath.Join(cfg.RunRoot, "exits"),
			SocketDir:  filepath.Join(cfg.RunRoot, "attach"),
			LogLevel:   cfg.LogLevel,
		},
		Host:   host,
		DB:     db,
		Images: images,
		Events: broker,
	})
	if err != nil {
		stop()
		db.Close()
		return nil, fmt.Errorf("load containers: %w", err)
	}
	sandboxes, err := sandbox.NewManager(context.Background(), sandbox.Options{
		RunRoot:      cfg.RunRoot,
		UsernsRoot:   cfg.UsernsRoot,
		CgroupDriver: cfg.CgroupDriver,
		Pause:        cfg.Pause,
		ShmSize:      cfg.Pod.ShmSize,
		Runtimes:     runtimes,
		Host:         host,
		DB:           db,
		Network:      net,
		Containers:   containers,
		Events:       broker,
	})
	if err != nil {
		stop()
		db.Close()
		return nil, fmt.Errorf("load pod sandboxes: %w", err)
	}
	s := &Server{
		cfg:        cfg,
		pins:       pins,
		db:         db,
		host:       host,
		runtimes:   runtimes,
		cni:        net,
		images:     images,
		puller:     image.NewPuller(images, cfg.Registries, cfg.Image.PullProgressTimeout.Duration),
		sandboxes:  sandboxes,
		containers: containers,
		events:     broker,
		stop:       stop,
		watchRestored: func() {
			containers.WatchRestored()
			sandboxes.WatchRestored()
		},
	}
	s.puller.SetAuthFile(authFile)
	s.puller.SetHostsDir(image.HostsDir(cfg.Image.CertsDir))
	if cfg.Image.ImportDir != "" {
		// Before the socket serves: an air-gapped node's kubelet finds the
		// images in place. Archives already imported cost a stat each.
		images.ImportDir(background, cfg.Image.ImportDir)
	}
	if s.stream, err = s.startStreaming(cfg); err != nil {
		stop()
		db.Close()
		return nil, err
	}
	tracingOpts, flushTraces, err := tracing(cfg.Tracing)
	if err != nil {
		s.stream.stop()
		stop()
		db.Close()
		return nil, err
	}
	s.flushTraces = flushTraces
	s.grpc = grpc.NewServer(append(tracingOpts,
		grpc.ChainUnaryInterceptor(logUnary),
		grpc.ChainStreamInterceptor(logStream),
	)...)
	countObjectStates(s)
	go s.countExits(broker.Subscribe())
	runtimeapi.RegisterRuntimeServiceServer(s.grpc, s)
	runtimeapi.RegisterImageServiceServer(s.grpc, s)
	return s, nil
}

// config returns the configuration in force (it changes on SIGHUP).
func (s *Server) config() *config.Config {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	return s.cfg
}

// Serve answers CRI calls on l until Shutdown. serving, if not nil, is
// called once the gRPC server has begun accepting on l (systemd's
// readiness): a client that connects from then on is answered.
func (s *Server) Serve(l net.Listener, serving func()) error {
	logrus.WithField("socket", l.Addr().String()).Info("serving CRI")
	if s.watchRestored != nil {
		s.watchRestored()
	}
	if serving != nil {
		l = &acceptingListener{Listener: l, first: serving}
	}
	return s.grpc.Serve(l)
}

// acceptingListener calls first when the server first waits for a
// connection: its accept loop is running.
type acceptingListener struct {
	net.Listener
	once  sync.Once
	first func()
}

func (l *acceptingListener) Accept() (net.Conn, error) {
	l.once.Do(l.first)
	return l.Listener.Accept()
}

// Shutdown stops accepting calls and lets the ones in flight finish, for at
// most grace; then it cuts the rest off. The containers' runtime creates
// still at work get as long again to end. Containers are not touched: they
// keep running under their monitors.
func (s *Server) Shutdown(ctx context.Context, grace time.Duration) {
	// Event streams never end on their own: ended first, they let the
	// graceful stop finish.
	s.events.Close()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		logrus.WithField("grace", grace).Warn("in-flight calls did not finish in time; closing them")
		s.grpc.Stop()
	case <-ctx.Done():
		s.grpc.Stop()
	}
	// A container's runtime create runs on after CreateContainer returned:
	// its record must be saved before the store closes.
	wait, cancel := context.WithTimeout(ctx, grace)
	if err := s.containers.WaitCreates(wait); err != nil {
		logrus.WithError(err).Warn("containers still being created at shutdown; the next start rolls them back")
	}
	cancel()
	s.stream.stop()
	s.stop()
	flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := s.flushTraces(flush); err != nil {
		logrus.WithError(err).Warn("tracing: flushing the last spans")
	}
	cancel()
	if err := s.db.Close(); err != nil {
		logrus.WithError(err).Warn("closing the metadata store")
	}
}

// Reload applies a new configuration (SIGHUP): the reloadable keys take
// effect now, the others are reported as needing a restart.
func (s *Server) Reload(cur *config.Config) {
	old := s.config()
	for _, ch := range config.Changes(old, cur) {
		if !ch.Reloadable {
			logrus.WithField("key", ch.Key).Warn("config changed but needs a restart to take effect; keeping the old value")
			continue
		}
		switch ch.Key {
		case "log_level":
			lvl, _ := logrus.ParseLevel(cur.LogLevel) // validated by config.Load
			logrus.SetLevel(lvl)
		case "cni":
			s.cni.Reload(cur.CNI)
		case "registries":
			s.puller.SetRegistries(cur.Registries)
		case "image":
			pins, err := pinsOf(cur)
			if err != nil {
				logrus.WithError(err).Error("SIGHUP: image not reloaded")
				cur.Image = old.Image
				continue
			}
			s.cfgMu.Lock()
			s.pins = pins
			s.cfgMu.Unlock()
			s.puller.SetProgressTimeout(cur.Image.PullProgressTimeout.Duration)
			s.puller.SetHostsDir(image.HostsDir(cur.Image.CertsDir))
		}
		logrus.WithField("key", ch.Key).Info("config reloaded")
	}
	// Every SIGHUP reads the auth file again, once: its credentials may
	// have changed with berth.toml unchanged.
	if err := s.reloadAuthFile(cur); err != nil {
		logrus.WithError(err).Error("SIGHUP: auth file not reloaded; the old credentials stay")
		cur.Image.AuthFile = old.Image.AuthFile
	}
	// Only reloadable keys change in the configuration in force.
	next := *old
	next.LogLevel, next.CNI, next.Registries, next.Image = cur.LogLevel, cur.CNI, cur.Registries, cur.Image
	s.cfgMu.Lock()
	s.cfg = &next
	s.cfgMu.Unlock()
}

// loadAuthFile reads cfg's image.auth_file; nil when none is set.
func loadAuthFile(cfg *config.Config) (*image.AuthFile, error) {
	if cfg.Image.AuthFile == "" {
		return nil, nil
	}
	return image.LoadAuthFile(cfg.Image.AuthFile)
}

// reloadAuthFile gives the puller cfg's auth file, read again.
func (s *Server) reloadAuthFile(cfg *config.Config) error {
	a, err := loadAuthFile(cfg)
	if err != nil {
		return err
	}
	s.puller.SetAuthFile(a)
	return nil
}

// pinsOf are the images cfg keeps from kubelet's garbage collection: the
// pinned_images and kubelet's pod infra image.
func pinsOf(cfg *config.Config) (image.Pins, error) {
	return image.ParsePins(pinPatterns(cfg))
}

// pinPatterns are image.pinned_images and the pause image.
func pinPatterns(cfg *config.Config) []string {
	patterns := cfg.Image.PinnedImages
	if cfg.Pause.Image != "" {
		patterns = append(slices.Clone(patterns), cfg.Pause.Image)
	}
	return patterns
}

// pinned says whether kubelet's image garbage collection must keep img.
func (s *Server) pinned(img *image.Image) bool {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	return img.Pinned || s.pins.Match(img)
}
