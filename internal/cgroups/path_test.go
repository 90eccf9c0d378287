package cgroups

import "testing"

func TestPath(t *testing.T) {
	tests := []struct {
		name        string
		driver      Driver
		cgroupsPath string
		want        string // "" means an error
	}{
		{"cgroupfs", Cgroupfs, "/kubepods/burstable/pod1/berth-abc", "/kubepods/burstable/pod1/berth-abc"},
		{"cgroupfs cleaned", Cgroupfs, "/kubepods//pod1/", "/kubepods/pod1"},
		{"cgroupfs relative", Cgroupfs, "kubepods/pod1", ""},
		{"cgroupfs dot-dot", Cgroupfs, "/kubepods/../../etc", ""},
		{"cgroupfs empty", Cgroupfs, "", ""},
		{"systemd scope", Systemd, "kubepods-burstable-pod1.slice:berth:abc", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/berth-abc.scope"},
		{"systemd top slice", Systemd, "berth.slice:berth:abc", "/berth.slice/berth-abc.scope"},
		{"systemd root slice", Systemd, "-.slice:berth:abc", "/berth-abc.scope"},
		{"systemd default slice", Systemd, ":berth:abc", "/system.slice/berth-abc.scope"},
		{"systemd name is a slice", Systemd, "kubepods.slice:berth:x.slice", "/kubepods.slice/x.slice"},
		{"systemd two parts", Systemd, "kubepods.slice:abc", ""},
		{"systemd no name", Systemd, "kubepods.slice:berth:", ""},
		{"systemd given a path", Systemd, "/kubepods/pod1/berth-abc", ""},
		{"systemd invalid slice", Systemd, "kubepods--pod1.slice:berth:abc", ""},
		{"unknown driver", Driver("cgroupv3"), "/kubepods", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Path(tt.driver, tt.cgroupsPath)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Path(%s, %q) = %q, want an error", tt.driver, tt.cgroupsPath, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Path(%s, %q) = %q, %v; want %q", tt.driver, tt.cgroupsPath, got, err, tt.want)
			}
		})
	}
}

func TestParentPath(t *testing.T) {
	tests := []struct {
		name   string
		driver Driver
		parent string
		want   string // "" means an error
	}{
		{"cgroupfs", Cgroupfs, "/kubepods/burstable/pod1", "/kubepods/burstable/pod1"},
		{"cgroupfs relative", Cgroupfs, "kubepods/pod1", "/kubepods/pod1"},
		{"cgroupfs dot-dot", Cgroupfs, "/kubepods/../etc", ""},
		{"systemd slice", Systemd, "kubepods-burstable-pod1.slice", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"},
		{"systemd one slice", Systemd, "kubepods.slice", "/kubepods.slice"},
		{"systemd path of slices", Systemd, "/kubepods.slice/kubepods-pod1.slice", "/kubepods.slice/kubepods-pod1.slice"},
		{"systemd root slice", Systemd, "-.slice", "/"},
		{"systemd not a slice", Systemd, "/kubepods/pod1", ""},
		{"systemd bare suffix", Systemd, ".slice", ""},
		{"systemd double dash", Systemd, "a--b.slice", ""},
		{"systemd leading dash", Systemd, "-a.slice", ""},
		{"systemd trailing dash", Systemd, "a-.slice", ""},
		{"systemd empty", Systemd, "", ""},
		{"unknown driver", Driver(""), "/kubepods", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParentPath(tt.driver, tt.parent)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParentPath(%s, %q) = %q, want an error", tt.driver, tt.parent, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParentPath(%s, %q) = %q, %v; want %q", tt.driver, tt.parent, got, err, tt.want)
			}
		})
	}
}
