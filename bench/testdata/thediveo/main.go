// Command thediveo is testdata/hello with a blank import of
// github.com/thediveo/gons.
package main

import (
	"github.com/gonsproject/gons/bench/testdata/mark"

	_ "github.com/thediveo/gons"
)

func main() {
	mark.Print()
}
