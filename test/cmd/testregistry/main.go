// Command testregistry builds the images critest v1.36.0 pulls (and, with
// --agnhost, those the Kubernetes node e2e suite pulls) and serves them over
// plain HTTP, each under "<upstream-host>/<path>":
//
//	testregistry --addr 127.0.0.1:5000 [--busybox-root DIR] [--agnhost DIR] [--log-requests]
//
// It prints "ready HOST:PORT" on stdout once every image can be pulled,
// logs to stderr, and exits 0 on SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/berth-dev/berth/test/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "address to listen on (port 0: any free port)")
	busyboxRoot := flag.String("busybox-root", registry.DefaultBusyboxRoot(), "Debian's busybox with its libraries, as hack/install-deps.sh unpacks it ($BERTH_BUSYBOX_ROOT)")
	agnhost := flag.String("agnhost", "", "dir with the agnhost binary, localhost.crt and localhost.key (test/e2enode/build.sh): also serve the node e2e suite's images")
	logRequests := flag.Bool("log-requests", false, "log every registry request")
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	log.SetPrefix("testregistry: ")
	log.SetFlags(0)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	images, err := registry.Catalogue(*busyboxRoot)
	if err != nil {
		log.Fatal(err)
	}
	if *agnhost != "" {
		nodeImages, err := registry.NodeE2ECatalogue(*busyboxRoot, *agnhost)
		if err != nil {
			log.Fatal(err)
		}
		images = append(images, nodeImages...)
	}
	var logf func(string, ...any)
	if *logRequests {
		logf = log.Printf
	}
	srv, err := registry.StartWithLog(*addr, images, logf)
	if err != nil {
		log.Fatal(err)
	}
	for _, img := range images {
		digest, err := img.Image.Digest()
		if err != nil {
			log.Fatal(err)
		}
		for _, ref := range img.Refs {
			log.Printf("serving %s (%s)", srv.Ref(ref), digest)
		}
	}
	for _, host := range registry.UpstreamHosts {
		log.Printf("mirror for %s: %s", host, registry.MirrorPrefix(srv.Addr(), host))
	}
	fmt.Printf("ready %s\n", srv.Addr())

	sig := <-sigs
	log.Printf("got %v, shutting down", sig)
	if err := srv.Close(); err != nil {
		log.Fatal(err)
	}
}
