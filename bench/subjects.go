//go:build subjects

package bench

// The benchmarks build their subjects from testdata, which go mod tidy does
// not read. These imports, under a build tag that no build sets, keep the
// subjects' requirements in go.mod and go.sum without linking any of them
// into the benchmark binary itself.
import (
	_ "github.com/thediveo/gons"
	_ "github.com/thediveo/gons/reexec"
	_ "github.com/vishvananda/netns"
)
