package oci

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCRIU(t *testing.T) {
	fakeCRIU := func(t *testing.T, script string) {
		dir := t.TempDir()
		if script != "" {
			if err := os.WriteFile(filepath.Join(dir, "criu"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("PATH", dir)
	}
	t.Run("missing", func(t *testing.T) {
		fakeCRIU(t, "")
		err := CheckCRIU(context.Background())
		if !errors.Is(err, ErrNoCRIU) || !strings.Contains(err.Error(), "not installed") {
			t.Errorf("CheckCRIU without criu = %v", err)
		}
	})
	t.Run("kernel lacking", func(t *testing.T) {
		fakeCRIU(t, "echo 'Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed' >&2\necho 'Error (criu/crtools.c:260): Could not initialize kernel features detection.' >&2\nexit 1\n")
		err := CheckCRIU(context.Background())
		if !errors.Is(err, ErrNoCRIU) || !strings.Contains(err.Error(), "kerndat_vdso_fill_symtable failed | Error (criu/crtools.c:260): Could not initialize kernel features detection") {
			t.Errorf("CheckCRIU with a failing check = %v", err)
		}
	})
	t.Run("usable", func(t *testing.T) {
		fakeCRIU(t, "[ \"$1\" = check ] && echo 'Looks good.'\n")
		if err := CheckCRIU(context.Background()); err != nil {
			t.Errorf("CheckCRIU with a passing check = %v", err)
		}
	})
}
