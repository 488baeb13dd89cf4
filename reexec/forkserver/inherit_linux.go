//go:build linux && cgo

package forkserver

// The children of the server answer runtime/cgo's question about the main
// thread's stack from the server's data (see inherit_linux.c): the linker
// sends every call of pthread_getattr_np in the program to a wrapper.

/*
#cgo LDFLAGS: -Wl,--wrap=pthread_getattr_np
*/
import "C"
