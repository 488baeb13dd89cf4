// Package probe reads, for the tests of package reexec/forkserver, what a
// process inherits from the fork server: how many malloc arenas glibc
// keeps, and the main thread's stack as runtime/cgo was told it and as
// the C library reports it. It needs Linux and cgo.
package probe
