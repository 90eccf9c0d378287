package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is a configuration problem: which file (or flag) set which key, and why
// it is wrong. Its text is the one line berth prints before exiting.
type Error struct {
	Source string // a file path, "flag --x", or "defaults"
	Key    string // dotted TOML key, e.g. "runtime.handlers.runc.path"
	Reason string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", e.Source, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.Source, e.Key, e.Reason)
}

// Override is a value given on the command line; it wins over every file.
type Override struct {
	Flag  string // e.g. "--listen", used in error messages
	Key   string // the TOML key it sets
	Apply func(*Config)
}

// Sources records which file or flag last set each key, so that validation
// errors found on the merged result still name the right place.
type Sources map[string]string

// sourceOf finds the source of key or of the nearest table containing it.
func (s Sources) sourceOf(key string) string {
	for k := key; k != ""; {
		if src, ok := s[k]; ok {
			return src
		}
		i := strings.LastIndex(k, ".")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return "defaults"
}

// DropInDir is the drop-in directory that belongs to a config file.
func DropInDir(file string) string { return file + ".d" }

// Load builds the configuration: defaults, then file (if it exists, or
// must exist when required), then every *.toml in dropInDir in lexical order,
// then the overrides. The result is validated.
func Load(file string, required bool, dropInDir string, overrides []Override) (*Config, error) {
	cfg := Default()
	src := Sources{}

	files, err := configFiles(file, required, dropInDir)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := decodeFile(f, cfg, src); err != nil {
			return nil, err
		}
	}
	for _, o := range overrides {
		o.Apply(cfg)
		src[o.Key] = "flag " + o.Flag
	}
	if err := cfg.validate(src); err != nil {
		return nil, err
	}
	return cfg, nil
}

func configFiles(file string, required bool, dropInDir string) ([]string, error) {
	var files []string
	if _, err := os.Stat(file); err == nil {
		files = append(files, file)
	} else if required || !errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{Source: file, Reason: err.Error()}
	}
	if dropInDir == "" {
		return files, nil
	}
	matches, err := filepath.Glob(filepath.Join(dropInDir, "*.toml"))
	if err != nil {
		return nil, &Error{Source: dropInDir, Reason: err.Error()}
	}
	sort.Strings(matches)
	return append(files, matches...), nil
}

// decodeFile decodes one file on top of cfg. Unknown keys are errors: a typo
// must not silently fall back to a default.
func decodeFile(path string, cfg *Config, src Sources) error {
	md, err := toml.DecodeFile(path, cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return &Error{Source: fmt.Sprintf("%s:%d", path, perr.Position.Line), Key: perr.LastKey, Reason: perr.Message}
		}
		return &Error{Source: path, Reason: err.Error()}
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return &Error{Source: path, Key: undecoded[0].String(), Reason: "unknown key"}
	}
	for _, k := range md.Keys() {
		src[k.String()] = path
	}
	return nil
}
