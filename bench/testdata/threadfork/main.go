// Command threadfork is testdata/thread with the fork server of package
// reexec/forkserver, through which its reexec mode starts children (see
// package threadcall).
package main

import (
	"github.com/gonsproject/gons/bench/testdata/threadcall"
	_ "github.com/gonsproject/gons/reexec/forkserver"
)

func main() { threadcall.Serve() }
