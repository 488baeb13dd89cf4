// Command forkserver serves the fork server benchmark's requests (see
// package driver) as testdata/reexec does, with the fork server of
// package reexec/forkserver: a typed action (RegisterFunc), or, with the
// argument "plain", a plain one. With "-floor PATH" the floor executes
// PATH, a build of testdata/reexec, which has no fork server, rather than
// itself, whose every exec'd copy would start a server of its own.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/gonsproject/gons/bench/testdata/driver"
	"github.com/gonsproject/gons/reexec"
	_ "github.com/gonsproject/gons/reexec/forkserver"
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
	plain := false
	for i := 1; i < len(os.Args); i++ {
		switch os.Args[i] {
		case "plain":
			plain = true
		case "-floor":
			i++
			driver.FloorExe = os.Args[i]
		}
	}
	driver.Serve(func(ns []string, p driver.Param) (driver.Result, error) {
		var opts []reexec.Option
		var list []reexec.Namespace
		for i := 0; i+1 < len(ns); i += 2 {
			list = append(list, reexec.Namespace{Type: ns[i], Path: ns[i+1]})
		}
		if list != nil {
			opts = append(opts, reexec.Namespaces(list))
		}
		if !plain {
			return answer.Run(context.Background(), p, opts...)
		}
		var r driver.Result
		err := reexec.RunReexecAction("answer", append(opts, reexec.Param(p), reexec.Result(&r))...)
		return r, err
	})
}
