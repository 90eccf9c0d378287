// Package storetest holds a kind of record to what the store promises of
// it: that store.Decode reads what encoding/json wrote exactly as
// encoding/json reads it.
package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// CheckDecode fills a value of v's type with every exported field set
// (so a field added later is covered without a change here), encodes it
// with encoding/json as the store does, and fails t unless store.Decode
// and encoding/json decode it to the same value (compared as their
// encodings: a time's location pointer is not its meaning).
func CheckDecode(t *testing.T, v any) {
	t.Helper()
	typ := reflect.TypeOf(v)
	filled := reflect.New(typ)
	fill(filled.Elem(), typ.Name(), 0)
	data, err := json.Marshal(filled.Interface())
	if err != nil {
		t.Fatalf("encode a filled %s: %v", typ, err)
	}
	std, fast := reflect.New(typ), reflect.New(typ)
	if err := json.Unmarshal(data, std.Interface()); err != nil {
		t.Fatalf("encoding/json cannot read a filled %s back (teach fill its field): %v\n%s", typ, err, data)
	}
	if err := store.Decode(data, fast.Interface()); err != nil {
		t.Fatalf("store.Decode of a %s: %v\n%s", typ, err, data)
	}
	want, _ := json.Marshal(std.Interface())
	got, _ := json.Marshal(fast.Interface())
	if !bytes.Equal(got, want) {
		t.Errorf("store.Decode reads a %s otherwise than encoding/json:\n got %s\nwant %s", typ, got, want)
	}
	if !bytes.Equal(want, data) {
		t.Errorf("encoding/json does not read a filled %s back as written (fill made a value JSON cannot hold):\nwrote %s\n read %s", typ, data, want)
	}
}

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage(nil))
)

// fill sets every exported field, element and pointer below v to a value
// that is not its zero, named after its path so that a field decoded into
// another shows.
func fill(v reflect.Value, path string, depth int) {
	if depth > 8 {
		return // a recursive type: deep enough
	}
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Date(2026, 12, 2, 17, 4, 5, 123456789, time.UTC).Add(time.Duration(len(path)) * time.Second)))
		return
	case v.Type() == rawType:
		v.SetBytes([]byte(fmt.Sprintf(`{"raw":%q}`, path)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(path)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(1 + len(path)%100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(2 + len(path)%100))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), path, depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, fmt.Sprintf("%s.key%d", path, i), depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, fmt.Sprintf("%s.value%d", path, i), depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(v.Field(i), path+"."+f.Name, depth+1)
			}
		}
	}
}
