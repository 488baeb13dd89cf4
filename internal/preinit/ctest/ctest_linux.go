//go:build linux && cgo

// Package ctest exposes the C environment parser of package preinit (the
// constructor behind package early) to Go tests and fuzzing; cgo is not
// allowed in _test.go files. env_linux.c here is a symbolic link to
// preinit's, so that the build cache sees its changes (it does not track an
// #include from outside the package). It is not part of the API.
package ctest

/*
#cgo CFLAGS: -Wall -Wextra -I${SRCDIR}/..
#include <stdlib.h>
#include "gons.h"
*/
import "C"

import (
	"unsafe"
)

// NTypes is the number of namespace types.
const NTypes = C.GONS_NTYPES

// Result is what gons_parse and gons_strip made of an environment.
type Result struct {
	Found        int      // gons_parse's return value
	Present      bool     // gons_present's
	Paths        []string // by type index, "" for none
	Order        []int    // types, in switch order
	Bang         uint     // bit (1 << type): opened before the first switch
	Target       int      // gons_target's PID
	TargetFD     int      // gons_target_fd's descriptor, -1 for none
	ErrorsStatus bool     // gons_errors=status
	Drop         bool     // gons_uid or gons_gid set, also after a failure
	Inode        uint64   // gons_target's INODE
	Types        uint     // bit (1 << type): the types to join of the target
	UID          int      // gons_uid, -1 when unset
	GID          int      // gons_gid, -1 when unset
	WD           string
	Root         string
	Op           int
	Type         int
	Errno        int
	Code         int
	Index        int
	Other        int
	Path         string
	Detail       string
	ReexecFD     int      // GONS_REEXEC_FD's value as recorded, -1 for none
	Env          []string // the environment after gons_strip, every slot
	Start        int      // the slot gons_strip returned, for environ
	EndNil       bool     // whether the slot after the last entry is still NULL
	Strings      []string // the original strings after gons_strip, at their length
}

// NVars is the number of gons_* variables.
const NVars = C.GONS_NVARS

// VarName returns the name of variable v without its "gons_"; the first
// NTypes are the namespace types.
func VarName(v int) string { return C.GoString(&C.gons_var_names[v][0]) }

// Parse runs gons_parse and then gons_strip on env, the way the
// constructor does.
func Parse(env []string) Result {
	n := len(env)
	array := (*[1 << 28]*C.char)(C.malloc(C.size_t(n+1) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))[: n+1 : n+1]
	for i, kv := range env {
		array[i] = C.CString(kv)
	}
	array[n] = nil
	defer func() {
		for _, p := range array[:n] {
			if p != nil {
				C.free(unsafe.Pointer(p))
			}
		}
		C.free(unsafe.Pointer(&array[0]))
	}()
	originals := append([]*C.char(nil), array[:n]...)

	var spec C.struct_gons_spec
	var rec C.struct_gons_record
	present := C.gons_present(&array[0]) != 0
	r := Result{Found: int(C.gons_parse(&array[0], &spec, &rec)), Present: present}
	for t := 0; t < NTypes; t++ {
		p := ""
		if spec.path[t] != nil {
			p = C.GoString(spec.path[t])
		}
		r.Paths = append(r.Paths, p)
	}
	for i := 0; i < int(spec.norder); i++ {
		r.Order = append(r.Order, int(spec.order[i]))
	}
	r.Bang = uint(spec.bang)
	r.Target, r.Inode, r.Types = int(spec.target), uint64(spec.inode), uint(spec.target_types)
	r.TargetFD, r.ErrorsStatus, r.Drop = int(spec.target_fd)-1, spec.errors_status != 0, spec.drop != 0
	r.UID, r.GID = -1, -1
	if spec.set_uid != 0 {
		r.UID = int(spec.uid)
	}
	if spec.set_gid != 0 {
		r.GID = int(spec.gid)
	}
	if spec.wd != nil {
		r.WD = C.GoString(spec.wd)
	}
	if spec.root != nil {
		r.Root = C.GoString(spec.root)
	}
	r.Op, r.Type, r.Errno, r.Code = int(rec.op), int(rec._type), int(rec.err), int(rec.code)
	r.Index, r.Other, r.ReexecFD = int(rec.index), int(rec.other), int(rec.reexec_fd)-1
	r.Path, r.Detail = C.GoStringN(&rec.path[0], C.int(cstrlen(rec.path[:]))), C.GoStringN(&rec.detail[0], C.int(cstrlen(rec.detail[:])))

	start := C.gons_strip(&array[0])
	for i, p := range array[:n] {
		r.Env = append(r.Env, C.GoString(p))
		if start == &array[i] {
			r.Start = i
		}
	}
	if start == &array[n] {
		r.Start = n
	}
	r.EndNil = array[n] == nil
	for i, p := range originals {
		r.Strings = append(r.Strings, string(C.GoBytes(unsafe.Pointer(p), C.int(len(env[i])))))
	}
	// The strings belong to the caller of gons_strip; free the originals.
	copy(array[:n], originals)
	return r
}

// cstrlen returns the length of the NUL-terminated string in b, or -1
// when b holds no NUL.
func cstrlen(b []C.char) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// TargetFDOf returns what gons_target_fd_of makes of s: the descriptor the
// constructor closes after a parse failure, or -1.
func TargetFDOf(s string) int {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return int(C.gons_target_fd_of(cs))
}
