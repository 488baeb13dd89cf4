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

// ctor is the constructor's record for packages status and reexec,
// which read it as handoff.Ctor: this defines that variable a second time,
// with the record's address as its content, which the linker takes over
// handoff's definition without content. It costs a program no Go init.
// status and reexec read ran: the record is the process's when it is
// GONS_RAN_STEERED (a program that imports early, or a child that reexec
// started); 0 where the constructor did not run (internal linking).
// __cgo_gons_record is the symbol that cgo declares for C.gons_record
// (&C.gons_record reads a variable of cgo's, which would take init code):
// its address is static.
//
//go:linkname ctor github.com/gonsproject/gons/internal/handoff.Ctor
var ctor = unsafe.Pointer(&__cgo_gons_record)

// Ran reports whether the constructor ran in this process, whether or not
// gons_* variables steered it: the children that package reexec starts
// can then switch. For tests; status.Ran says whether the process itself
// was steered.
func Ran() bool { return C.gons_record.ran != 0 }
