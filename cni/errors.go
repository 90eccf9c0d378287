package cni

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidArg marks pod metadata that cannot go into CNI_ARGS.
var ErrInvalidArg = errors.New("invalid CNI argument")

// CheckArgs refuses pod metadata that would change the arguments CNI
// plugins get: CNI_ARGS is "K=V;K=V", so a ';' or '=' in a value would add
// or alter an argument (a name "web;IgnoreUnknown=1" would inject one).
// Kubernetes names never hold them.
func CheckArgs(name, namespace, uid string) error {
	for what, v := range map[string]string{"name": name, "namespace": namespace, "uid": uid} {
		if strings.ContainsAny(v, ";=\x00") {
			return fmt.Errorf("%w: pod %s %q must not contain ';', '=' or NUL (CNI_ARGS would change)", ErrInvalidArg, what, v)
		}
	}
	return nil
}
