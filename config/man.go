package config

import (
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
)

// Manual writes berth.toml(5) as a roff man page. It is made from the
// same struct tags as `berth config` (every key, its default, its doc,
// whether SIGHUP reloads it), so the two cannot drift.
func Manual(w io.Writer) error {
	var b strings.Builder
	b.WriteString("% berth.toml 5\n\n# NAME\nberth.toml - configuration of the berth CRI runtime\n\n")
	b.WriteString("# SYNOPSIS\n**" + DefaultConfigFile + "**, then **" + DropInDir(DefaultConfigFile) + "/*.toml** in lexical order\n\n")
	b.WriteString("# DESCRIPTION\nberth reads TOML. No file is needed: the defaults below work on a fresh Debian machine. " +
		"A drop-in file sets only the keys it names; a table of **registries** in a drop-in replaces that registry's whole entry. " +
		"Flags of **berth**(8) win over the files. A file that does not load stops berth with one line naming the file, the key and the reason.\n\n" +
		"Keys marked *reloadable* are applied when berth gets SIGHUP (**systemctl reload berth**); the rest need a restart. " +
		"**berth config** prints every key with its default as commented TOML; **berth config --effective** the merged configuration in force.\n\n")
	b.WriteString("# KEYS\n")
	if err := manTable(&b, nil, reflect.ValueOf(Default()).Elem(), ""); err != nil {
		return err
	}
	b.WriteString("\n# FILES\n**" + DefaultConfigFile + "**\n: the main file\n\n**" + DropInDir(DefaultConfigFile) + "/**\n: drop-in files, applied after it\n\n")
	b.WriteString("# SEE ALSO\n**berth**(8), **crictl**(1), **kubelet**(1)\n")
	_, err := w.Write(md2man.Render([]byte(b.String())))
	return err
}

// manTable writes a table's plain keys, then its tables, as `berth
// config` orders them.
func manTable(b *strings.Builder, path []string, v reflect.Value, doc string) error {
	t := v.Type()
	if path != nil {
		fmt.Fprintf(b, "\n## [%s]\n", joinKey(path))
		if doc != "" {
			b.WriteString(manEscape(doc) + "\n")
		}
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if isTable(f.Type) {
			continue
		}
		def, err := encodeKey(f.Tag.Get("toml"), v.Field(i).Interface())
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "\n**%s**\n: %s", f.Tag.Get("toml"), manEscape(f.Tag.Get("doc")))
		if f.Tag.Get("reload") == "true" {
			b.WriteString(" *Reloadable.*")
		}
		fmt.Fprintf(b, " Default: `%s`.\n", strings.TrimSpace(strings.TrimPrefix(def, f.Tag.Get("toml")+" = ")))
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !isTable(f.Type) {
			continue
		}
		sub := append(append([]string{}, path...), f.Tag.Get("toml"))
		doc := f.Tag.Get("doc")
		if f.Tag.Get("reload") == "true" {
			doc += " Reloadable."
		}
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := manTable(b, sub, fv, doc); err != nil {
				return err
			}
			continue
		}
		// A map of tables: its entries' keys, under a placeholder name;
		// the entries in force by default follow.
		if err := manTable(b, append(sub, "<name>"), reflect.Zero(f.Type.Elem()), doc); err != nil {
			return err
		}
		for _, k := range fv.MapKeys() {
			fmt.Fprintf(b, "\nDefault entry **[%s]**.\n", joinKey(append(sub, k.String())))
			if err := manEntry(b, fv.MapIndex(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// manEntry lists a default map entry's values.
func manEntry(b *strings.Builder, v reflect.Value) error {
	for i := 0; i < v.NumField(); i++ {
		line, err := encodeKey(v.Type().Field(i).Tag.Get("toml"), v.Field(i).Interface())
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "`%s`\n", strings.TrimSpace(line))
	}
	return nil
}

// manEscape keeps markdown from reading a doc's characters as markup.
func manEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", `\<`).Replace(s)
}
