//go:build linux && cgo

package early

/*
#cgo CFLAGS: -Wall -Wextra
#include "gons.h"
*/
import "C"

import (
	_ "unsafe" // for go:linkname

	_ "github.com/gonsproject/gons/status" // defines record
)

// record hands the constructor's outcome to package status, which defines
// it (see status/record.go).
//
//go:linkname record github.com/gonsproject/gons/status.record
func record(state int, joined []int, op, typ, errno, code, index, other int, path, detail string)

// States of the record, as in status/record.go.
const (
	stateRan    = 1
	stateNoCtor = 2
)

func init() {
	r := &C.gons_record
	if r.ran == 0 {
		record(stateNoCtor, nil, 0, -1, 0, 0, 0, -1, "", "")
		return
	}
	joined := make([]int, r.njoined)
	for i := range joined {
		joined[i] = int(r.joined[i])
	}
	record(stateRan, joined, int(r.op), int(r._type), int(r.err), int(r.code), int(r.index),
		int(r.other), C.GoString(&r.path[0]), C.GoString(&r.detail[0]))
}
