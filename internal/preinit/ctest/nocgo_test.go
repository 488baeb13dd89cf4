//go:build linux && !cgo

package ctest

import (
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
)

// TestParser stands for the C parser's tests in a test binary built
// without cgo, so that they skip with the reason (and fail in CI) rather
// than vanish.
func TestParser(t *testing.T) {
	testutil.RequireCgo(t)
	testutil.Unavailable(t, "the C parser's tests need cgo: this test binary was built with CGO_ENABLED=0")
}
