// Package undo keeps the steps that roll back a half-done create, so a
// failure midway leaves nothing behind.
package undo

import (
	"fmt"

	"github.com/sirupsen/logrus"
)

// Stack holds undo steps; Run performs them newest first.
type Stack struct {
	steps []step
}

type step struct {
	what string
	fn   func() error
}

// Push adds the step that undoes what was just done.
func (s *Stack) Push(what string, fn func() error) {
	s.steps = append(s.steps, step{what, fn})
}

// Run undoes everything pushed, newest first. A step that fails is logged
// with log's fields and the rest still run; Run then says it failed, for a
// caller that must keep what names the leftovers.
func (s *Stack) Run(log *logrus.Entry) error {
	var failed error
	for i := len(s.steps) - 1; i >= 0; i-- {
		if err := s.steps[i].fn(); err != nil {
			log.WithError(err).Warnf("undo: %s", s.steps[i].what)
			if failed == nil {
				failed = fmt.Errorf("undo %s: %w", s.steps[i].what, err)
			}
		}
	}
	s.steps = nil
	return failed
}
