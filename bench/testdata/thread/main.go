// Command thread serves the Thread benchmark's requests (see package
// threadcall); its reexec mode starts children by exec.
package main

import "github.com/gonsproject/gons/bench/testdata/threadcall"

func main() { threadcall.Serve() }
