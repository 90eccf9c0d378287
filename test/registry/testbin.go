package registry

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// testbinPackage is the import path of the multi-call helper program.
const testbinPackage = "github.com/berth-dev/berth/test/registry/testbin"

var testbin struct {
	once sync.Once
	data []byte
	err  error
}

// Testbin returns the static linux/amd64 build of the testbin helper
// program (pgrep, ipcs, nnp, nginx, httpd, pause; see package testbin). It is
// compiled with `go build` the first time and kept for the life of the
// process. The build is reproducible: -trimpath, no VCS stamp, no cgo.
func Testbin() ([]byte, error) {
	testbin.once.Do(func() { testbin.data, testbin.err = buildTestbin() })
	return testbin.data, testbin.err
}

func buildTestbin() ([]byte, error) {
	tmp, err := os.MkdirTemp("", "berth-testbin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "testbin")

	// Build from this package's source directory when it is on disk (go test,
	// go run); otherwise by import path, from the current directory's module.
	dir, pkg := "", testbinPackage
	if _, file, _, ok := runtime.Caller(0); ok {
		if src := filepath.Join(filepath.Dir(file), "testbin"); isDir(src) {
			dir, pkg = src, "."
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOAMD64=v1")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building %s: %v\n%s", testbinPackage, err, stderr.Bytes())
	}
	return os.ReadFile(out)
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
