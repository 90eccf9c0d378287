package main

import (
	"fmt"
	"os"
)

// nnpMain prints the effective uid, like Kubernetes' nonewprivs test image.
// The image installs it setuid root: it prints 0 unless no_new_privs
// stopped the setuid bit from taking effect.
func nnpMain([]string) int {
	fmt.Printf("Effective uid: %d\n", os.Geteuid())
	return 0
}
