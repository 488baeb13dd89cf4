// Command early is testdata/hello with a blank import of package early.
package main

import (
	"github.com/gonsproject/gons/bench/testdata/mark"

	_ "github.com/gonsproject/gons/early"
)

func main() {
	mark.Print()
}
