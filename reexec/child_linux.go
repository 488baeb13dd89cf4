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

// checkSocket makes sure that fd is a socket before the child reads and
// writes frames there: a stray GONS_REEXEC_ACTION in a program's
// environment must not make it write into whatever file fd 3 happens to be.
func checkSocket(fd int) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return syscall.ENOTSOCK
	}
	return nil
}
