//go:build !linux

package reexec_test

import "testing"

// usePath skips the test through the fork server, which is Linux's only.
func usePath(t *testing.T, fork bool) {
	if fork {
		t.Skip("no fork server on this system")
	}
}
