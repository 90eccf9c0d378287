package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/berth-dev/berth/internal/cgroups"
	"github.com/berth-dev/berth/internal/fsutil"
	"github.com/berth-dev/berth/internal/reaper"
	"github.com/berth-dev/berth/internal/version"
	"github.com/berth-dev/berth/server"
)

// shutdownGrace bounds how long in-flight calls may run after SIGTERM.
const shutdownGrace = 10 * time.Second

// serve runs the daemon until SIGTERM or SIGINT. SIGHUP reloads the
// configuration files (the reloadable keys).
func serve(c *cli.Context) error {
	collectSooner()
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	lvl, _ := logrus.ParseLevel(cfg.LogLevel) // validated by config.Load
	logrus.SetLevel(lvl)

	// The socket first: its directory (often the runroot) is created 0700,
	// and a second berth on the same socket must stop before touching state.
	l, err := server.Listen(cfg.Listen)
	if err != nil {
		return err
	}
	// Only root may enter the state dirs, whatever made them before.
	for _, dir := range []string{cfg.Root, cfg.RunRoot} {
		if err := fsutil.PrivateDir(dir); err != nil {
			l.Close()
			return fmt.Errorf("state dir: %w", err)
		}
	}
	// Pause processes and monitors are re-parented to berth, which reaps
	// them at once instead of leaving them to a slow init.
	if err := reaper.Start(); err != nil {
		l.Close()
		return fmt.Errorf("become child subreaper: %w", err)
	}
	// What the host's cgroups offer is read once and handed down: limits of
	// a controller the host lacks are left out of specs, not failed on.
	host, err := cgroups.Probe()
	if err != nil {
		l.Close()
		return fmt.Errorf("probe cgroups: %w", err)
	}
	logrus.WithFields(logrus.Fields{
		"mode":            host.Mode().String(),
		"controllers":     host.Controllers(),
		"swap_accounting": host.SwapAccounting(),
	}).Info("cgroup hierarchy")
	srv, err := server.New(cfg, host)
	if err != nil {
		l.Close()
		return err
	}

	adminListener, err := server.ListenAdmin(server.AdminSocket(cfg.RunRoot))
	if err != nil {
		l.Close()
		return fmt.Errorf("admin socket: %w", err)
	}
	admin := srv.ServeAdmin(adminListener)

	var metrics *http.Server
	if cfg.MetricsAddress != "" {
		// Metrics are for watching berth, not for running pods: a port
		// another program holds costs them, not the node.
		if metrics, err = server.ServeMetrics(cfg.MetricsAddress); err != nil {
			logrus.WithError(err).Warn("no Prometheus metrics; set metrics_address to a free host:port")
		}
	}

	if addr := c.String("pprof-address"); addr != "" {
		servePprof(addr)
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l, func() { notifySystemd(daemon.SdNotifyReady) }) }()
	logrus.WithFields(logrus.Fields{"version": version.Version(), "root": cfg.Root, "runroot": cfg.RunRoot}).Info("berth started")

	for {
		select {
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				notifySystemd(reloadingState())
				reload(c, srv)
				notifySystemd(daemon.SdNotifyReady)
				continue
			}
			logrus.WithField("signal", sig.String()).Info("shutting down; containers keep running")
			notifySystemd(daemon.SdNotifyStopping)
			admin.Close()
			srv.Shutdown(context.Background(), shutdownGrace)
			if metrics != nil {
				metrics.Close()
			}
			return nil
		}
	}
}

// daemonGCPercent is the heap growth the daemon's collector allows over the
// live heap (Go's default is 100). berth's live heap is a few MiB even with
// hundreds of pods, and most of what it allocates is garbage of a moment
// (records, specs, plugin environments): growing by half of it, not all of
// it, keeps the node's memory, for a collection a few pods more often.
// bench-cri with 250 pods: RSS 39.7 -> 37.4 MiB (the daemon's own memory
// 14.0 -> 11.6 MiB), start and restart times unchanged within noise.
const daemonGCPercent = 50

// collectSooner sets daemonGCPercent unless the operator chose with GOGC.
func collectSooner() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(daemonGCPercent)
	}
}

// servePprof serves the pprof handlers on addr: a profiling aid, so a
// failure is only logged.
func servePprof(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		logrus.WithError(err).Warn("no pprof endpoint")
		return
	}
	logrus.WithField("address", l.Addr().String()).Info("serving pprof")
	go func() {
		if err := http.Serve(l, mux); err != nil {
			logrus.WithError(err).Warn("pprof endpoint stopped")
		}
	}()
}

// reload re-reads the configuration; a broken file keeps the old one in force.
func reload(c *cli.Context, srv *server.Server) {
	cfg, err := loadConfig(c)
	if err != nil {
		logrus.WithError(err).Error("SIGHUP: configuration not reloaded")
		return
	}
	srv.Reload(cfg)
}
