// Package covered has code that only a re-executed child runs, for the
// tests of package cover.
package covered

// Answer counts up to 42. Only the child runs it.
func Answer() int {
	n := 0
	for range 42 {
		n++
	}
	return n
}
