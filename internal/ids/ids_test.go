package ids

import "testing"

func TestLookup(t *testing.T) {
	m := map[string]int{"abc123": 1, "abd456": 2, "ab": 3}
	tests := []struct {
		key   string
		want  int
		match Match
	}{
		{"abc123", 1, Found},
		{"abc", 1, Found},
		{"abd", 2, Found},
		{"ab", 3, Found}, // a full ID wins over the prefix it is of others
		{"a", 0, Ambiguous},
		{"x", 0, None},
	}
	for _, tt := range tests {
		got, match := Lookup(m, tt.key)
		if got != tt.want || match != tt.match {
			t.Errorf("Lookup(%q) = %d, %v; want %d, %v", tt.key, got, match, tt.want, tt.match)
		}
	}
	if n := len(Values(m)); n != 3 {
		t.Errorf("Values: %d values, want 3", n)
	}
}
