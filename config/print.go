package config

import (
	"bytes"
	"encoding"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Write prints cfg as TOML with every key documented: `berth config` prints
// the defaults this way, `berth config --effective` the merged configuration.
// The output loads back to the same configuration.
func Write(w io.Writer, cfg *Config) error {
	var b bytes.Buffer
	b.WriteString("# berth configuration (TOML).\n")
	b.WriteString("# Files: " + DefaultConfigFile + ", then " + DropInDir(DefaultConfigFile) + "/*.toml in lexical order; flags win over both.\n")
	b.WriteString("# Keys marked (reloadable) are applied on SIGHUP; the rest need a restart.\n")
	if err := writeTable(&b, nil, reflect.ValueOf(cfg).Elem()); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

var textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()

// isTable says whether a value is written as a TOML table rather than a value.
func isTable(t reflect.Type) bool {
	if t.Implements(textMarshaler) {
		return false
	}
	return t.Kind() == reflect.Struct || (t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct)
}

func writeTable(b *bytes.Buffer, path []string, v reflect.Value) error {
	t := v.Type()
	// Plain keys first: TOML attaches keys to the most recent table header.
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if isTable(f.Type) {
			continue
		}
		writeDoc(b, f)
		line, err := encodeKey(f.Tag.Get("toml"), v.Field(i).Interface())
		if err != nil {
			return err
		}
		b.WriteString(line)
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !isTable(f.Type) {
			continue
		}
		sub := append(append([]string{}, path...), f.Tag.Get("toml"))
		b.WriteString("\n")
		writeDoc(b, f)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			fmt.Fprintf(b, "[%s]\n", joinKey(sub))
			if err := writeTable(b, sub, fv); err != nil {
				return err
			}
			continue
		}
		if err := writeMapTables(b, sub, fv); err != nil {
			return err
		}
	}
	return nil
}

// writeMapTables writes one table per map entry, sorted by key; an empty map
// gets a commented-out example so the reader sees its shape.
func writeMapTables(b *bytes.Buffer, path []string, m reflect.Value) error {
	if m.Len() == 0 {
		fmt.Fprintf(b, "# [%s.\"example.com\"]\n", joinKey(path))
		for i := 0; i < m.Type().Elem().NumField(); i++ {
			f := m.Type().Elem().Field(i)
			line, err := encodeKey(f.Tag.Get("toml"), reflect.Zero(f.Type).Interface())
			if err != nil {
				return err
			}
			b.WriteString("# " + line)
		}
		return nil
	}
	keys := make([]string, 0, m.Len())
	for _, k := range m.MapKeys() {
		keys = append(keys, k.String())
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteString("\n")
		}
		sub := append(append([]string{}, path...), k)
		fmt.Fprintf(b, "[%s]\n", joinKey(sub))
		if err := writeTable(b, sub, m.MapIndex(reflect.ValueOf(k))); err != nil {
			return err
		}
	}
	return nil
}

func writeDoc(b *bytes.Buffer, f reflect.StructField) {
	doc := f.Tag.Get("doc")
	if f.Tag.Get("reload") == "true" {
		doc += " (reloadable)"
	}
	if doc != "" {
		b.WriteString("# " + doc + "\n")
	}
}

// encodeKey renders `key = value` with the TOML encoder, so quoting and
// escaping are exactly what the decoder expects back.
func encodeKey(key string, value any) (string, error) {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(map[string]any{key: value}); err != nil {
		return "", fmt.Errorf("encode %s: %w", key, err)
	}
	if b.Len() == 0 { // the encoder drops nil slices
		return key + " = []\n", nil
	}
	return b.String(), nil
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func joinKey(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		if bareKey.MatchString(p) {
			parts[i] = p
		} else {
			parts[i] = strconv.Quote(p)
		}
	}
	return strings.Join(parts, ".")
}
