package reexec

import "syscall"

// closeOnExecFrom marks every descriptor from fd on close-on-exec, so that
// what the parent passed, the protocol socket and any hook's files, does
// not leak into processes the action starts. It uses close_range(2) and
// falls back to fd alone on kernels before 5.11.
func closeOnExecFrom(fd int) {
	const sysCloseRange, closeRangeCloexec = 436, 4 // the same number on every architecture
	if _, _, errno := syscall.Syscall(sysCloseRange, uintptr(fd), uintptr(^uint32(0)), closeRangeCloexec); errno != 0 {
		syscall.CloseOnExec(fd)
	}
}
