// Command thediveostatus is testdata/size/thediveo checking the outcome
// with gons.Status, the counterpart of internal/footprint/testdata/status.
package main

import "C"

import (
	"os"

	"github.com/thediveo/gons"
)

func main() {
	err := gons.Status()
	if err == nil {
		_, err = os.Stdout.WriteString("hello, world\n")
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
