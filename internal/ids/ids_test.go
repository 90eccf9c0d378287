package ids

import (
	"errors"
	"testing"
)

var (
	errNotFound  = errors.New("not found")
	errAmbiguous = errors.New("ambiguous")
)

func TestFind(t *testing.T) {
	m := map[string]int{"abc123": 1, "abd456": 2, "ab": 3}
	tests := []struct {
		key  string
		want int
		err  error
	}{
		{"abc123", 1, nil},
		{"abc", 1, nil},
		{"abd", 2, nil},
		{"ab", 3, nil}, // a full ID wins over the prefix it is of others
		{"a", 0, errAmbiguous},
		{"x", 0, errNotFound},
		{"", 0, errNotFound},
	}
	for _, tt := range tests {
		got, err := Find(m, tt.key, "thing", errNotFound, errAmbiguous)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Find(%q) = %d, %v; want %d, %v", tt.key, got, err, tt.want, tt.err)
		}
	}
	if n := len(Values(m)); n != 3 {
		t.Errorf("Values: %d values, want 3", n)
	}
}
