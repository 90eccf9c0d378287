package config

import (
	"reflect"
)

// Change is one top-level key whose value differs between two configurations.
type Change struct {
	Key        string
	Reloadable bool // applied on SIGHUP; otherwise it takes a restart
}

// Changes compares two configurations key by key (top-level keys and tables),
// for SIGHUP to apply what it can and say what needs a restart.
func Changes(old, cur *Config) []Change {
	var out []Change
	ov, cv := reflect.ValueOf(old).Elem(), reflect.ValueOf(cur).Elem()
	t := ov.Type()
	for i := 0; i < t.NumField(); i++ {
		if reflect.DeepEqual(ov.Field(i).Interface(), cv.Field(i).Interface()) {
			continue
		}
		f := t.Field(i)
		out = append(out, Change{Key: f.Tag.Get("toml"), Reloadable: f.Tag.Get("reload") == "true"})
	}
	return out
}
