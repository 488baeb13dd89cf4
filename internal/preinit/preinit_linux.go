//go:build linux && cgo

package preinit

/*
#cgo CFLAGS: -Wall -Wextra -Oz -fno-asynchronous-unwind-tables
#include "gons.h"
*/
import "C"

import "unsafe"

// status reads struct gons_record through a Go mirror of its layout
// (status.cRecord: 18 int32s from ran to reexec_fd, two uint64s, path,
// detail); these fail to compile when gons.h changes it.
var (
	_ [unsafe.Offsetof(C.gons_record.reexec_fd) - 17*4]struct{}
	_ [17*4 - unsafe.Offsetof(C.gons_record.reexec_fd)]struct{}
	_ [unsafe.Offsetof(C.gons_record.op) - 10*4]struct{}
	_ [10*4 - unsafe.Offsetof(C.gons_record.op)]struct{}
	_ [unsafe.Offsetof(C.gons_record.target_inode) - 18*4]struct{}
	_ [18*4 - unsafe.Offsetof(C.gons_record.target_inode)]struct{}
	_ [unsafe.Offsetof(C.gons_record.path) - (18*4 + 2*8)]struct{}
	_ [(18*4 + 2*8) - unsafe.Offsetof(C.gons_record.path)]struct{}
	_ [unsafe.Sizeof(C.gons_record) - (18*4 + 2*8 + 4096 + 256)]struct{}
	_ [(18*4 + 2*8 + 4096 + 256) - unsafe.Sizeof(C.gons_record)]struct{}
	_ [C.GONS_PATH_MAX - 4096]struct{}
	_ [4096 - C.GONS_PATH_MAX]struct{}
	_ [C.GONS_RAN_STEERED - 1]struct{}
	_ [1 - C.GONS_RAN_STEERED]struct{}
)

// The record goes to status when the constructor steered this process:
// in a program that imports early, or in a child that reexec started. In a
// program that imports only reexec the constructor leaves gons_* variables
// alone, and status hears nothing, as if early were not linked. Where the
// constructor did not run at all (internal linking), status hears that.
func init() {
	switch C.gons_record.ran {
	case C.GONS_RAN_STEERED:
		record(stateRan, unsafe.Pointer(&C.gons_record))
	case 0:
		record(stateNoCtor, nil)
	}
}

// Ran reports whether the constructor ran in this process, whether or not
// gons_* variables steered it: the children that package reexec starts
// can then switch. For tests; status.Ran says whether the process itself
// was steered.
func Ran() bool { return C.gons_record.ran != 0 }
