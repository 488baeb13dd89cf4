//go:build cgo

package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"os"
	"unsafe"
)

// systemEnv runs a shell with system(3), which passes it the C library's
// environ, has it copy the environment it got to file, and returns that
// environment's entries. The trailing ":" keeps the shell from replacing itself
// with cat, so that $$ is the shell and alive while cat reads.
func systemEnv(file string) []string {
	cmd := C.CString("cat /proc/$$/environ >'" + file + "'; :")
	defer C.free(unsafe.Pointer(cmd))
	if C.system(cmd) != 0 {
		fail(os.ErrInvalid)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		fail(err)
	}
	return entries(b)
}
