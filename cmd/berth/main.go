// Command berth is the berth CRI runtime daemon and its small CLI.
package main

import (
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/berth-dev/berth/config"
	"github.com/berth-dev/berth/internal/version"
)

func main() {
	app := &cli.App{
		Name:  "berth",
		Usage: "a Kubernetes CRI runtime",
		Description: "Without a command, berth serves the CRI on its socket (" + config.DefaultListen + "), for kubelet and crictl. " +
			"Configuration: " + config.DefaultConfigFile + " and its drop-in directory, described in berth.toml(5); flags override both. " +
			"Signals: SIGHUP reloads the reloadable keys (and the auth file), SIGTERM and SIGINT stop berth and leave pods and containers running for the next start. " +
			"Under systemd (Type=notify) berth reports READY=1 once the socket serves.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Value: config.DefaultConfigFile, Usage: "configuration file (need not exist when left at the default)"},
			&cli.StringFlag{Name: "config-dir", Usage: "drop-in directory of *.toml files applied after --config (default: the --config file with .d appended)"},
			&cli.StringFlag{Name: "log-level", Usage: "override log_level"},
			&cli.StringFlag{Name: "listen", Usage: "override listen (the CRI unix socket path)"},
			&cli.StringFlag{Name: "root", Usage: "override root (persistent state)"},
			&cli.StringFlag{Name: "runroot", Usage: "override runroot (volatile state)"},
			&cli.StringFlag{Name: "userns-root", Usage: "override userns_root (root filesystems of user-namespaced pods)"},
			&cli.StringFlag{Name: "pprof-address", Usage: "serve Go's pprof profiles on this host:port (/debug/pprof/), to find where berth's time goes; off by default"},
		},
		Action: serve,
		Commands: []*cli.Command{
			imageCommand,
			{
				Name:  "config",
				Usage: "print the default configuration as commented TOML",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "effective", Usage: "print the merged configuration in force instead"}},
				Action: func(c *cli.Context) error {
					cfg := config.Default()
					if c.Bool("effective") {
						var err error
						if cfg, err = loadConfig(c); err != nil {
							return err
						}
					}
					return config.Write(os.Stdout, cfg)
				},
			},
			{
				Name:      "man",
				Usage:     "print a man page in roff: berth(8), or berth.toml(5) with 5",
				ArgsUsage: "[8|5]",
				Action: func(c *cli.Context) error {
					switch c.Args().First() {
					case "", "8":
						page, err := c.App.ToManWithSection(8)
						if err != nil {
							return err
						}
						_, err = fmt.Print(page)
						return err
					case "5":
						return config.Manual(os.Stdout)
					}
					return fmt.Errorf("man: no section %q (8 for berth, 5 for berth.toml)", c.Args().First())
				},
			},
			{
				Name:  "version",
				Usage: "print berth's version",
				Action: func(c *cli.Context) error {
					fmt.Printf("berth version %s\ncommit: %s\nCRI API: v1\n", version.Version(), version.Commit())
					return nil
				},
			},
		},
		// Errors are printed once, on one line, by main.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "berth: %v\n", err)
		os.Exit(1)
	}
}

// loadConfig merges the configuration files and the flags given.
func loadConfig(c *cli.Context) (*config.Config, error) {
	file := c.String("config")
	dropIn := c.String("config-dir")
	if dropIn == "" {
		dropIn = config.DropInDir(file)
	}
	var overrides []config.Override
	for _, f := range []struct {
		flag, key string
		set       func(*config.Config, string)
	}{
		{"log-level", "log_level", func(cfg *config.Config, v string) { cfg.LogLevel = v }},
		{"listen", "listen", func(cfg *config.Config, v string) { cfg.Listen = v }},
		{"root", "root", func(cfg *config.Config, v string) { cfg.Root = v }},
		{"runroot", "runroot", func(cfg *config.Config, v string) { cfg.RunRoot = v }},
		{"userns-root", "userns_root", func(cfg *config.Config, v string) { cfg.UsernsRoot = v }},
	} {
		if !c.IsSet(f.flag) {
			continue
		}
		v, set := c.String(f.flag), f.set
		overrides = append(overrides, config.Override{Flag: "--" + f.flag, Key: f.key, Apply: func(cfg *config.Config) { set(cfg, v) }})
	}
	return config.Load(file, c.IsSet("config"), dropIn, overrides)
}

func init() {
	logrus.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: "2006-01-02T15:04:05.000Z07:00"})
}
