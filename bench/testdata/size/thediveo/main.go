// Command thediveo is internal/footprint/testdata/base with a blank import of
// github.com/thediveo/gons.
package main

import "C"

import (
	"os"

	_ "github.com/thediveo/gons"
)

func main() {
	if _, err := os.Stdout.WriteString("hello, world\n"); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
