// Command reexec is internal/footprint/testdata/base running an action
// through package reexec, as the example of package reexec does.
package main

import "C"

import (
	"os"

	"github.com/gonsproject/gons/reexec"
)

func init() {
	reexec.Register("answer", func() { os.Stdout.WriteString("42\n") })
}

func main() {
	reexec.CheckAction()
	var answer int
	err := reexec.RunReexecAction("answer", reexec.Result(&answer))
	if err == nil {
		_, err = os.Stdout.WriteString("hello, world\n")
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
