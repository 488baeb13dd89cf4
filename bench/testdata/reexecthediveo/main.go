// Command reexecthediveo serves the reexec benchmark's requests (see
// package driver) with github.com/thediveo/gons/reexec, whose actions read
// their parameter from stdin and write their result to stdout as JSON.
package main

import (
	"encoding/json"
	"os"

	"github.com/gonsproject/gons/bench/testdata/driver"
	"github.com/thediveo/gons/reexec"
)

func init() {
	reexec.Register("answer", func() {
		var p driver.Param
		if err := json.NewDecoder(os.Stdin).Decode(&p); err != nil {
			panic(err)
		}
		if err := json.NewEncoder(os.Stdout).Encode(driver.Answer(p)); err != nil {
			panic(err)
		}
	})
}

func main() {
	reexec.CheckAction()
	driver.Serve(func(ns []string, p driver.Param) (driver.Result, error) {
		var r driver.Result
		opts := []reexec.ReexecActionOption{reexec.Param(p), reexec.Result(&r)}
		if ns != nil {
			opts = append(opts, reexec.Namespaces([]reexec.Namespace{{Type: ns[0], Path: ns[1]}}))
		}
		err := reexec.RunReexecAction("answer", opts...)
		return r, err
	})
}
