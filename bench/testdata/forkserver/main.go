// Command forkserver serves the fork server benchmark's requests (see
// package driver) as testdata/reexec does, with the fork server of
// package reexec/forkserver: a typed action (RegisterFunc), or, with the
// argument "plain", a plain one, or, with "standing", the typed one in a
// standing child (reexec.Start) for each set of namespaces, or, with
// "resultfirst", the typed one with reexec.ResultFirst. With "-floor
// PATH" the floor executes PATH, a build of testdata/reexec, which has no
// fork server, rather than itself, whose every exec'd copy would start a
// server of its own.
package main

import (
	"os"

	"github.com/gonsproject/gons/bench/testdata/answer"
	"github.com/gonsproject/gons/bench/testdata/driver"
	"github.com/gonsproject/gons/reexec"
	_ "github.com/gonsproject/gons/reexec/forkserver"
)

func main() {
	reexec.CheckAction()
	plain, standing, resultFirst := false, false, false
	for i := 1; i < len(os.Args); i++ {
		switch os.Args[i] {
		case "plain":
			plain = true
		case "standing":
			standing = true
		case "resultfirst":
			resultFirst = true
		case "-floor":
			i++
			driver.FloorExe = os.Args[i]
		}
	}
	switch {
	case standing:
		answer.ServeStanding()
		return
	case resultFirst:
		answer.ServeResultFirst()
		return
	}
	answer.Serve(!plain)
}
