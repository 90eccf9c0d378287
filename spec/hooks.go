package spec

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"go.podman.io/common/pkg/hooks"
)

// Hooks are the OCI hooks of the node's hooks.d directories (the JSON
// format CRI-O and podman read: a hook, the stages it runs at, and "when"
// it applies: always, by annotation, by command, with bind mounts). The
// OCI runtime runs them; berth puts those that match into each spec.
type Hooks struct {
	m *hooks.Manager
}

// NewHooks reads the hooks of dirs (a later dir's file wins over an
// earlier one of the same name) and follows their changes until ctx
// ends. A dir that does not exist is left out: it needs a restart once
// made. A hook file that does not load stops the start, as it does
// CRI-O's (a hook the operator installed is never dropped quietly); one
// broken later is logged and the others stay.
func NewHooks(ctx context.Context, dirs []string) (*Hooks, error) {
	var present []string
	for _, d := range dirs {
		st, err := os.Stat(d)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			logrus.WithField("dir", d).Debug("hooks dir absent: no hooks from it")
			continue
		case err != nil:
			return nil, fmt.Errorf("hooks dir: %w", err)
		case !st.IsDir():
			return nil, fmt.Errorf("hooks dir %s is not a directory", d)
		}
		present = append(present, d)
	}
	if len(present) == 0 {
		return nil, nil
	}
	m, err := hooks.New(ctx, present, nil)
	if err != nil {
		return nil, fmt.Errorf("hooks: %w", err)
	}
	watching := make(chan error, 2)
	go m.Monitor(ctx, watching)
	if err := <-watching; err != nil {
		logrus.WithError(err).Warn("hooks: dirs not watched; changes need a restart")
	}
	return &Hooks{m: m}, nil
}

// apply adds the hooks that match the container to s; s's annotations
// and process are final.
func (h *Hooks) apply(s *rspec.Spec, hasBindMounts bool) error {
	if h == nil {
		return nil
	}
	if _, err := h.m.Hooks(s, s.Annotations, hasBindMounts); err != nil {
		return fmt.Errorf("%w: OCI hooks: %v", ErrFailedPrecondition, err)
	}
	return nil
}
