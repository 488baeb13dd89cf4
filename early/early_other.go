//go:build !linux || !cgo

package early

import "runtime"

// Without cgo, or off Linux, there is no constructor: tell status why.
func init() {
	state := stateNoCgo
	if runtime.GOOS != "linux" {
		state = stateNoLinux
	}
	record(state, nil)
}
