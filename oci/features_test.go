package oci

import "testing"

func TestParseFeatures(t *testing.T) {
	tests := map[string]Features{
		`{"mountOptions":["bind","rro"],"linux":{"mountExtensions":{"idmap":{"enabled":true}}}}`: {RecursiveReadOnlyMounts: true, IDMappedMounts: true},
		`{"linux":{"namespaces":["net","user"],"mountExtensions":{"idmap":{"enabled":true}}}}`:   {IDMappedMounts: true, UserNamespaces: true},
		`{"linux":{"namespaces":["net","user"],"mountExtensions":{"idmap":{"enabled":false}}}}`:  {},
		`{"mountOptions":["bind","ro"]}`: {},
		`not json`:                       {},
		`{"mountOptions":["rro"],"linux":{"mountExtensions":{"idmap":{"enabled":false}}}}`: {RecursiveReadOnlyMounts: true},
	}
	for in, want := range tests {
		if got := parseFeatures([]byte(in)); got != want {
			t.Errorf("parseFeatures(%s) = %+v, want %+v", in, got, want)
		}
	}
}
