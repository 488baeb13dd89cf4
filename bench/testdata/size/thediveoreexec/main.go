// Command thediveoreexec is internal/footprint/testdata/base running an
// action through github.com/thediveo/gons/reexec, the counterpart of
// testdata/size/reexec.
package main

import "C"

import (
	"encoding/json"
	"os"

	"github.com/thediveo/gons/reexec"
)

func init() {
	reexec.Register("answer", func() { json.NewEncoder(os.Stdout).Encode(42) })
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
