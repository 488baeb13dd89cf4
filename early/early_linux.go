//go:build linux && cgo

package early

/*
#cgo CFLAGS: -Wall -Wextra -Os -fno-asynchronous-unwind-tables
#include "gons.h"
*/
import "C"

import (
	"unsafe"

	_ "github.com/gonsproject/gons/status" // defines record
)

// record hands the constructor's record to package status, which defines
// it (see status/record.go) and reads the C struct in place.
//
//go:linkname record github.com/gonsproject/gons/status.record
func record(state int, r unsafe.Pointer)

// States of the record, as in status/record.go.
const (
	stateRan    = 1
	stateNoCtor = 2
)

// status reads struct gons_record through a Go mirror of its layout
// (status.cRecord: ran, njoined, joined[8], op ... other as int32s, then
// path and detail); these fail to compile when gons.h changes it.
var (
	_ [unsafe.Offsetof(C.gons_record.op) - 10*4]struct{}
	_ [10*4 - unsafe.Offsetof(C.gons_record.op)]struct{}
	_ [unsafe.Offsetof(C.gons_record.other) - 15*4]struct{}
	_ [15*4 - unsafe.Offsetof(C.gons_record.other)]struct{}
	_ [unsafe.Offsetof(C.gons_record.path) - 16*4]struct{}
	_ [16*4 - unsafe.Offsetof(C.gons_record.path)]struct{}
	_ [unsafe.Sizeof(C.gons_record) - (16*4 + C.GONS_PATH_MAX + C.GONS_DETAIL_MAX)]struct{}
	_ [(16*4 + C.GONS_PATH_MAX + C.GONS_DETAIL_MAX) - unsafe.Sizeof(C.gons_record)]struct{}
	_ [C.GONS_PATH_MAX - 4096]struct{}
	_ [4096 - C.GONS_PATH_MAX]struct{}
	_ [C.GONS_DETAIL_MAX - 256]struct{}
	_ [256 - C.GONS_DETAIL_MAX]struct{}
)

func init() {
	if C.gons_record.ran == 0 {
		record(stateNoCtor, nil)
		return
	}
	record(stateRan, unsafe.Pointer(&C.gons_record))
}
