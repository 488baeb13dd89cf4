// Command reexec serves the reexec benchmark's requests (see package
// driver) with package reexec. Started with no argument it runs a plain
// action, as thediveo/gons does: its parameter comes from DecodeParam, its
// result is its standard output. Started with the argument "func" it runs
// a typed action (RegisterFunc), whose parameter and result travel over a
// socket of their own.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/gonsproject/gons/bench/testdata/driver"
	"github.com/gonsproject/gons/reexec"
)

var answer = reexec.RegisterFunc("answer-func", func(p driver.Param) (driver.Result, error) {
	return driver.Answer(p), nil
})

func init() {
	reexec.Register("answer", func() {
		var p driver.Param
		if err := reexec.DecodeParam(&p); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		if err := json.NewEncoder(os.Stdout).Encode(driver.Answer(p)); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
	})
}

func main() {
	reexec.CheckAction()
	typed := len(os.Args) > 1 && os.Args[1] == "func"
	driver.Serve(func(ns []string, p driver.Param) (driver.Result, error) {
		var opts []reexec.Option
		if ns != nil {
			opts = append(opts, reexec.Namespaces([]reexec.Namespace{{Type: ns[0], Path: ns[1]}}))
		}
		if typed {
			return answer.Run(context.Background(), p, opts...)
		}
		var r driver.Result
		err := reexec.RunReexecAction("answer", append(opts, reexec.Param(p), reexec.Result(&r))...)
		return r, err
	})
}
