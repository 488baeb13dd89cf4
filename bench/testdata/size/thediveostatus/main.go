// Command thediveostatus is testdata/size/thediveo checking the outcome
// with gons.Status, the counterpart of internal/footprint/testdata/status.
package main

import "C"

import (
	"os"

	"github.com/thediveo/gons"
)

func main() {
	if err := gons.Status(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("hello, world\n")
}
