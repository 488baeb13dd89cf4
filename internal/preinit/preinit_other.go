//go:build !linux || !cgo

package preinit

import "runtime"

// Without cgo, or off Linux, there is no constructor: tell status why.
func init() {
	state := stateNoCgo
	if runtime.GOOS != "linux" {
		state = stateNoLinux
	}
	record(state, nil)
}

// Ran reports false: there is no constructor.
func Ran() bool { return false }
