//go:build forkserver

package main

import _ "github.com/gonsproject/gons/reexec/forkserver"
