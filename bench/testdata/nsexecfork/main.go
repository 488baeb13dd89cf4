// Command nsexecfork serves the nsexec benchmark's requests (see package
// nsexecdriver) with the fork server of package reexec/forkserver, which
// nsexec starts its children through.
package main

import (
	"github.com/gonsproject/gons/bench/testdata/nsexecdriver"
	_ "github.com/gonsproject/gons/reexec/forkserver"
)

func main() { nsexecdriver.Serve() }
