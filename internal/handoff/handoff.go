// Package handoff carries what early's constructor found in the
// environment, and removed from it, to the packages of this module that
// need it: the constructor's record, which the linker points Ctor at. It
// is not part of the API.
package handoff

import _ "unsafe" // for go:linkname

// Record is the start of the constructor's struct gons_record
// (internal/preinit/gons.h), as far as this package reads it; package
// status mirrors all of it.
type Record struct {
	Ran           int32 // enum gons_ran: 1 once the constructor steered this process
	_             [16]int32
	ReexecFDPlus1 int32 // GONS_REEXEC_FD's N + 1, or 0: none
}

// Ctor is the constructor's record, in C memory, where the program links
// package internal/preinit with cgo on Linux; nil otherwise. Package
// preinit defines this variable a second time, with the record's address
// as its content, and the linker takes a definition with content over one
// without: no Go init code runs to set it, which every program that
// imports early would pay for with its code and pc tables.
//
//go:linkname Ctor
var Ctor *Record

// ReexecFD returns the descriptor GONS_REEXEC_FD named and ok, or ok false
// when the constructor found none or did not steer this process (no cgo,
// internal linking, another system, a program that links it through
// reexec alone); then the variable, if any, is still in the environment.
func ReexecFD() (fd int, ok bool) {
	if r := Ctor; r != nil && r.Ran == 1 {
		return int(r.ReexecFDPlus1) - 1, r.ReexecFDPlus1 > 0
	}
	return -1, false
}
