package reexec

import (
	"os"

	"golang.org/x/sys/unix"
)

// closeOnExecFrom marks every descriptor from fd on close-on-exec, so that
// what the parent passed, the protocol socket and any hook's files, does
// not leak into processes the action starts. It uses close_range(2) and
// falls back to fd alone on kernels before 5.11.
func closeOnExecFrom(fd int) {
	if err := unix.CloseRange(uint(fd), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		unix.CloseOnExec(fd)
	}
}

// checkSocket makes sure that fd is a socket before the child reads and
// writes frames there: a stray GONS_REEXEC_FD in a program's environment
// must not make it write into whatever file that descriptor happens to be.
func checkSocket(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return unix.ENOTSOCK
	}
	return nil
}

// pipeBuf is PIPE_BUF, what a write(2) to an empty pipe always takes at
// once: no pipe holds less (pipe(7)).
const pipeBuf = 4096

// paramToStdin makes param the standard input of the process: the read end
// of a pipe that param is written to, which ends after it. Up to pipeBuf
// bytes are in the pipe when it returns; a larger param is written by a
// goroutine as the action reads it.
func paramToStdin(param []byte) error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return os.NewSyscallError("pipe2", err)
	}
	err := unix.Dup3(p[0], 0, 0)
	unix.Close(p[0])
	if err != nil {
		unix.Close(p[1])
		return os.NewSyscallError("dup3", err)
	}
	if len(param) <= pipeBuf {
		// The usual small parameter fits the pipe: written here, it
		// spares the child a goroutine and the thread to run it.
		for {
			if _, err = unix.Write(p[1], param); err != unix.EINTR {
				break
			}
		}
		unix.Close(p[1])
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		return nil
	}
	// A parameter larger than PIPE_BUF is written as the action reads.
	w := os.NewFile(uintptr(p[1]), "reexec-param")
	go func() {
		w.Write(param)
		w.Close()
	}()
	return nil
}
