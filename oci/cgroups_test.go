package oci

import (
	"errors"
	"testing"

	"github.com/berth-dev/berth/config"
)

func TestCgroupsPath(t *testing.T) {
	tests := []struct {
		name, driver, parent string
		want                 string // "" means the parent must be rejected
	}{
		{"cgroupfs default parent", config.CgroupfsDriver, "", "/berth/berth-pod"},
		{"cgroupfs absolute parent", config.CgroupfsDriver, "/kubepods/burstable/pod1", "/kubepods/burstable/pod1/berth-pod"},
		{"cgroupfs relative parent", config.CgroupfsDriver, "kubepods", "/kubepods/berth-pod"},
		{"cgroupfs trailing slash", config.CgroupfsDriver, "/kubepods/", "/kubepods/berth-pod"},
		{"cgroupfs dot-dot", config.CgroupfsDriver, "/kubepods/../etc", ""},
		{"cgroupfs relative dot-dot", config.CgroupfsDriver, "../kubepods", ""},
		{"cgroupfs given a slice", config.CgroupfsDriver, "kubepods-burstable-pod1.slice", ""},
		{"systemd slice", config.SystemdDriver, "kubepods-burstable-pod1.slice", "kubepods-burstable-pod1.slice:berth:pod"},
		{"systemd default parent", config.SystemdDriver, "", "berth.slice:berth:pod"},
		{"systemd path of slices", config.SystemdDriver, "/kubepods.slice/kubepods-pod1.slice", "kubepods-pod1.slice:berth:pod"},
		{"systemd given a cgroupfs path", config.SystemdDriver, "/kubepods/pod1", ""},
		{"systemd bare suffix", config.SystemdDriver, ".slice", ""},
		{"systemd double dash", config.SystemdDriver, "a--b.slice", ""},
		{"systemd leading dash", config.SystemdDriver, "-a.slice", ""},
		{"systemd trailing dash", config.SystemdDriver, "a-.slice", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, err := CgroupParent(tt.driver, tt.parent)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("CgroupParent(%q, %q) = %q, %v; want an error wrapping ErrInvalid", tt.driver, tt.parent, parent, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CgroupParent(%q, %q): %v", tt.driver, tt.parent, err)
			}
			if got := CgroupsPath(tt.driver, parent, "pod"); got != tt.want {
				t.Fatalf("CgroupsPath(%q, %q) = %q; want %q", tt.driver, tt.parent, got, tt.want)
			}
		})
	}
}
