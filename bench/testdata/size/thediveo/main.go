// Command thediveo is internal/footprint/testdata/base with a blank import of
// github.com/thediveo/gons.
package main

import "C"

import (
	"os"

	_ "github.com/thediveo/gons"
)

func main() {
	os.Stdout.WriteString("hello, world\n")
}
