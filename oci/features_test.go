package oci

import "testing"

func TestParseFeatures(t *testing.T) {
	tests := map[string]Features{
		`{"mountOptions":["bind","rro"],"linux":{"mountExtensions":{"idmap":{"enabled":true}}}}`: {RecursiveReadOnlyMounts: true},
		`{"linux":{"namespaces":["net","user"],"mountExtensions":{"idmap":{"enabled":true}}}}`:   {UserNamespaces: true},
		`{"linux":{"namespaces":["net","user"],"mountExtensions":{"idmap":{"enabled":false}}}}`:  {},
		`{"linux":{"namespaces":["net","user"]}}`:                                                {},
		`{"mountOptions":["bind","ro"]}`:                                                         {},
		`not json`:                                                                               {},
		`{"mountOptions":["rro"],"linux":{"mountExtensions":{"idmap":{"enabled":false}}}}`:       {RecursiveReadOnlyMounts: true},
		`{"linux":{"seccomp":{"enabled":true,"actions":["SCMP_ACT_ALLOW"]}}}`:                    {Seccomp: true},
		`{"linux":{"seccomp":{"enabled":false}}}`:                                                {},
	}
	for in, want := range tests {
		if got := parseFeatures([]byte(in)); got != want {
			t.Errorf("parseFeatures(%s) = %+v, want %+v", in, got, want)
		}
	}
}
