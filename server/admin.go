package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/image"
)

// AdminSocket is where berth serves its admin API: in the runroot, for
// root only. `berth image import` talks to it.
func AdminSocket(runRoot string) string { return filepath.Join(runRoot, "admin.sock") }

// ImportedImage is one image an import stored, as the admin API reports it.
type ImportedImage struct {
	ID          string   `json:"id"`
	RepoTags    []string `json:"repo_tags,omitempty"`
	RepoDigests []string `json:"repo_digests,omitempty"`
}

// AdminResult is the admin API's JSON answer: what an import stored, or
// why a call failed.
type AdminResult struct {
	Images []ImportedImage `json:"images,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// ListenAdmin opens the admin socket, 0600: only root may connect.
func ListenAdmin(path string) (net.Listener, error) {
	l, err := Listen(path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return l, nil
}

// peerUID is the connection's peer credential key.
type peerUID struct{}

// ServeAdmin serves the admin API on l until the returned server is
// closed: POST /v1/images/import takes an image archive as its body, GET
// /v1/images/export?ref=REF answers with one.
// Besides the socket's mode, each connection's peer must be root.
func (s *Server) ServeAdmin(l net.Listener) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/images/import", s.handleImport)
	mux.HandleFunc("GET /v1/images/export", s.handleExport)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if uid, _ := r.Context().Value(peerUID{}).(int); uid != 0 {
				http.Error(w, "the admin socket is for root only", http.StatusForbidden)
				return
			}
			mux.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			uid := -1
			if uc, ok := c.(*net.UnixConn); ok {
				if raw, err := uc.SyscallConn(); err == nil {
					raw.Control(func(fd uintptr) {
						if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
							uid = int(cred.Uid)
						}
					})
				}
			}
			return context.WithValue(ctx, peerUID{}, uid)
		},
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logrus.WithError(err).Warn("admin socket stopped")
		}
	}()
	return srv
}

// handleImport spools the archive to the image store's disk (the
// formats need to read it more than once), imports it and answers with
// what it stored.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	// The ".import-" prefix: the store removes what a crash left of it.
	f, err := os.CreateTemp(s.images.Dir(), ".import-upload-")
	if err != nil {
		writeAdminResult(w, http.StatusInternalServerError, AdminResult{Error: err.Error()})
		return
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, r.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		writeAdminResult(w, http.StatusBadRequest, AdminResult{Error: "reading the archive: " + err.Error()})
		return
	}
	imgs, err := s.images.Import(r.Context(), f.Name())
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, image.ErrInvalidArchive) || errors.Is(err, image.ErrTooLarge) {
			code = http.StatusBadRequest
		}
		logrus.WithError(err).Warn("image import refused")
		writeAdminResult(w, code, AdminResult{Error: err.Error()})
		return
	}
	var res AdminResult
	for _, img := range imgs {
		res.Images = append(res.Images, ImportedImage{ID: img.ID, RepoTags: img.RepoTags, RepoDigests: img.RepoDigests})
		logrus.WithFields(logrus.Fields{"image": img.ID, "tags": img.RepoTags}).Info("image imported")
	}
	writeAdminResult(w, http.StatusOK, res)
}

// handleExport streams the image as a docker-archive. What can fail is
// checked before the first byte; a failure while streaming aborts the
// connection, so the client never takes a cut archive for a whole one.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("ref")
	img, err := s.images.ExportCheck(ref)
	if err != nil {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, image.ErrNotFound):
			code = http.StatusNotFound
		case errors.Is(err, image.ErrNotExportable):
			code = http.StatusConflict
		}
		writeAdminResult(w, code, AdminResult{Error: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	if err := s.images.Export(img.ID, w); err != nil {
		logrus.WithError(err).WithField("image", img.ID).Warn("image export failed")
		panic(http.ErrAbortHandler)
	}
	logrus.WithField("image", img.ID).Info("image exported")
}

// writeAdminResult answers an admin call with its JSON result.
func writeAdminResult(w http.ResponseWriter, code int, res AdminResult) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(res)
}
