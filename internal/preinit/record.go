package preinit

import (
	"unsafe"

	_ "github.com/gonsproject/gons/status" // defines record
)

// record hands what happened at start-up to package status, which defines
// it (see status/record.go): with the constructor, a pointer to its C
// record, read in place; without, nil and the reason.
//
//go:linkname record github.com/gonsproject/gons/status.record
func record(state int, r unsafe.Pointer)

// States of the record, as in status/record.go.
const (
	stateRan     = 1
	stateNoCtor  = 2
	stateNoCgo   = 3
	stateNoLinux = 4
)
