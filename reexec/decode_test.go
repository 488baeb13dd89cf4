package reexec

import "testing"

// TestDecodeStrict checks that parameters and results decode only as one
// JSON value of known fields, with nothing but white space after it.
func TestDecodeStrict(t *testing.T) {
	type v struct{ A int }
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{`{"A":1}`, true},
		{" {\"A\":1} \t\r\n", true},
		{`{"A":1}x`, false},
		{`{"A":1}]`, false},
		{`{"A":1}{"A":2}`, false},
		{`{"A":1} 2`, false},
		{`{"B":1}`, false},
		{``, false},
		{`{"A":`, false},
	} {
		var got v
		if err := decodeStrict([]byte(tt.in), &got); (err == nil) != tt.ok {
			t.Errorf("decodeStrict(%q) = %v, want ok %v", tt.in, err, tt.ok)
		} else if tt.ok && got.A != 1 {
			t.Errorf("decodeStrict(%q) decoded %+v", tt.in, got)
		}
	}
}
