//go:build !linux || !cgo

package early

import (
	"runtime"
	_ "unsafe" // for go:linkname

	_ "github.com/gonsproject/gons/status" // defines record
)

//go:linkname record github.com/gonsproject/gons/status.record
func record(state int, joined []int, op, typ, errno, code, index, other int, path, detail string)

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
	record(state, nil, 0, -1, 0, 0, 0, -1, "", "")
}
