// Command reexec serves the reexec benchmark's requests (see package
// driver) with package reexec (see package answer). Started with no
// argument it runs a plain action, as thediveo/gons does: its parameter
// comes from DecodeParam, its result is its standard output. Started with
// the argument "func" it runs a typed action (RegisterFunc), whose
// parameter and result travel over a socket of their own.
package main

import (
	"os"

	"github.com/gonsproject/gons/bench/testdata/answer"
	"github.com/gonsproject/gons/reexec"
)

func main() {
	reexec.CheckAction()
	answer.Serve(len(os.Args) > 1 && os.Args[1] == "func")
}
