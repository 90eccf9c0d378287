package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berth-dev/berth/server"
)

// imageCommand is `berth image`: images in and out of a running berth,
// without a registry, through its admin socket.
var imageCommand = &cli.Command{
	Name:  "image",
	Usage: "load images into the running berth without a registry",
	Subcommands: []*cli.Command{
		{
			Name:      "import",
			Usage:     "import a docker-archive (docker save) or an OCI archive, plain or compressed; - reads standard input",
			ArgsUsage: "FILE|-",
			Action:    importImage,
		},
	},
}

func importImage(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("image import: want one FILE (or - for standard input)")
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	var body io.Reader = os.Stdin
	if arg := c.Args().First(); arg != "-" {
		f, err := os.Open(arg)
		if err != nil {
			return err
		}
		defer f.Close()
		body = f
	}
	socket := server.AdminSocket(cfg.RunRoot)
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
	resp, err := client.Post("http://berth/v1/images/import", "application/x-tar", body)
	if err != nil {
		return fmt.Errorf("image import: is berth running? %w", err)
	}
	defer resp.Body.Close()
	var res server.ImportResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return fmt.Errorf("image import: berth answered %s", resp.Status)
	}
	if res.Error != "" {
		return fmt.Errorf("image import: %s", res.Error)
	}
	for _, img := range res.Images {
		fmt.Printf("%s\t%s\n", img.ID, strings.Join(append(img.RepoTags, img.RepoDigests...), " "))
	}
	return nil
}
