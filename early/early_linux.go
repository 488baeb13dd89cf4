//go:build linux && cgo

package early

/*
#cgo CFLAGS: -Wall -Wextra -Os -fno-asynchronous-unwind-tables
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
)

func init() {
	if C.gons_record.ran == 0 {
		record(stateNoCtor, nil)
		return
	}
	record(stateRan, unsafe.Pointer(&C.gons_record))
}
