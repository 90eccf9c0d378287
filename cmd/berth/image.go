package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berth-dev/berth/server"
)

// imageCommand is `berth image`: images in and out of a running berth,
// without a registry, through its admin socket.
var imageCommand = &cli.Command{
	Name:  "image",
	Usage: "move images into and out of the running berth without a registry",
	Subcommands: []*cli.Command{
		{
			Name:      "import",
			Usage:     "import a docker-archive (docker save) or an OCI archive, plain or compressed; - reads standard input",
			ArgsUsage: "FILE|-",
			Action:    importImage,
		},
		{
			Name:      "export",
			Usage:     "export an image as a docker-archive (with its tags), which docker load, podman load, ctr import and berth image import read; - writes standard output",
			ArgsUsage: "REF FILE|-",
			Action:    exportImage,
		},
	},
}

// adminClient talks HTTP to the admin socket of the berth the flags and
// config name.
func adminClient(c *cli.Context) (*http.Client, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, err
	}
	socket := server.AdminSocket(cfg.RunRoot)
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}, nil
}

// adminError is the error an answer that is not 200 carries.
func adminError(what string, resp *http.Response) error {
	var res server.AdminResult
	if json.NewDecoder(resp.Body).Decode(&res) == nil && res.Error != "" {
		return fmt.Errorf("%s: %s", what, res.Error)
	}
	return fmt.Errorf("%s: berth answered %s", what, resp.Status)
}

func exportImage(c *cli.Context) error {
	if c.NArg() != 2 {
		return fmt.Errorf("image export: want REF and FILE (or - for standard output)")
	}
	client, err := adminClient(c)
	if err != nil {
		return err
	}
	ref, dest := c.Args().Get(0), c.Args().Get(1)
	resp, err := client.Get("http://berth/v1/images/export?ref=" + url.QueryEscape(ref))
	if err != nil {
		return fmt.Errorf("image export: is berth running? %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return adminError("image export", resp)
	}
	if dest == "-" {
		_, err := io.Copy(os.Stdout, resp.Body)
		return err
	}
	// The archive appears under its name only once whole.
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("image export: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

func importImage(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("image import: want one FILE (or - for standard input)")
	}
	client, err := adminClient(c)
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
	resp, err := client.Post("http://berth/v1/images/import", "application/x-tar", body)
	if err != nil {
		return fmt.Errorf("image import: is berth running? %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return adminError("image import", resp)
	}
	var res server.AdminResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return fmt.Errorf("image import: berth answered %s", resp.Status)
	}
	for _, img := range res.Images {
		fmt.Printf("%s\t%s\n", img.ID, strings.Join(append(img.RepoTags, img.RepoDigests...), " "))
	}
	return nil
}
