//go:build !linux || !cgo

package preinit

import (
	"runtime"
	"unsafe"

	_ "github.com/gonsproject/gons/status" // defines record
)

// record tells package status, which defines it (see status/record.go),
// why there is no constructor.
//
//go:linkname record github.com/gonsproject/gons/status.record
func record(state int, r unsafe.Pointer)

// States of the record, as in status/record.go.
const (
	stateNoCgo   = 3
	stateNoLinux = 4
)

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
