package spawn

import (
	"context"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/forkhook"
)

// The exec request of protocol.h.
const (
	KindExec = 3  // program: fork a child that executes a program
	ExecSize = 24 // header, nfds, nvars, nargs, flags

	ExecShare = 1 // flag: the child forks nothing before it executes the program
)

// ExecRequest is a child that executes a program (package nsexec): its
// gons_* variables and nsexec's marker (Vars), the program's name, Args
// and Env, its descriptors 0, 1, 2 and on (FDs), and a descriptor of the
// working directory it starts in (Dir). The type is forkhook's, which
// package nsexec fills.
type ExecRequest = forkhook.ExecRequest

// SpawnExec asks the server for a child as req says and returns it, as
// [Spawn] does, with the same errors; [ErrTooLarge] also when the strings
// do not fit a message, and an [os.SyscallError] with ENOSYS when the
// server takes no exec requests.
func SpawnExec(ctx context.Context, req *ExecRequest) (pid, pidfd int, err error) {
	if len(req.FDs)+1 > MaxFDs || len(req.FDs) < 3 {
		return 0, -1, fmt.Errorf("%w: %d descriptors", ErrTooLarge, len(req.FDs))
	}
	size := ExecSize + len(req.Name) + 1
	for _, l := range [][]string{req.Vars, req.Args, req.Env} {
		for _, s := range l {
			size += len(s) + 1
		}
	}
	if size > MaxMsg {
		return 0, -1, fmt.Errorf("%w: %d bytes", ErrTooLarge, size)
	}
	msg := make([]byte, ExecSize, size)
	binary.NativeEndian.PutUint32(msg[0:], KindExec)
	binary.NativeEndian.PutUint32(msg[4:], uint32(size))
	binary.NativeEndian.PutUint32(msg[8:], uint32(len(req.FDs)))
	binary.NativeEndian.PutUint32(msg[12:], uint32(len(req.Vars)))
	binary.NativeEndian.PutUint32(msg[16:], uint32(len(req.Args)))
	if req.Share {
		binary.NativeEndian.PutUint32(msg[20:], ExecShare)
	}
	for _, s := range req.Vars {
		msg = append(append(msg, s...), 0)
	}
	msg = append(append(msg, req.Name...), 0)
	for _, l := range [][]string{req.Args, req.Env} {
		for _, s := range l {
			msg = append(append(msg, s...), 0)
		}
	}
	rights := unix.UnixRights(append(req.FDs[:len(req.FDs):len(req.FDs)], req.Dir)...)
	ch, err := roundTrip(ctx, msg, rights, nil)
	return ch.PID, ch.PidFD, err
}
