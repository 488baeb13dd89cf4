package spawn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// The messages of protocol.h.
const (
	KindSpawn   = 1 // program: fork a child
	KindSpawned = 2 // server: the child's PID, or why there is none

	SpawnSize = 16 // header (kind, length), nfds, socket
	ReplySize = 16 // header, pid, err

	MaxFDs  = 64       // descriptors of a request, the directory included
	MaxVars = 32       // gons_* variables of a request
	MaxMsg  = 64 << 10 // bytes of a request
)

// replyTimeout bounds the wait for a reply: the server forks and answers
// at once, so a server that does not is stopped or stuck, and is given up.
const replyTimeout = 10

// ErrUnavailable is returned by [Spawn] when there is no server, or no
// longer one: the caller starts the child by exec instead.
var ErrUnavailable = errors.New("no fork server")

// ErrTooLarge is returned by [Spawn] for a request the server cannot take;
// the caller starts that child by exec.
var ErrTooLarge = errors.New("request too large for the fork server")

var server = struct {
	mu      sync.Mutex
	fd      int // the program's end of the channel; -1: none, or given up
	pid     int // the server's PID, a child of the program, reaped when given up
	spawned int // children spawned
}{fd: -1}

// Serve hands the channel to a server of PID pid to this package. It is
// called once, by reexec/forkserver's init, before any request.
func Serve(fd, pid int) {
	tv := unix.Timeval{Sec: replyTimeout}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	server.fd, server.pid = fd, pid
}

// Available reports whether there is a server to ask.
func Available() bool {
	server.mu.Lock()
	defer server.mu.Unlock()
	return server.fd >= 0
}

// PID returns the server's PID, or 0 when there is none (any more).
func PID() int {
	server.mu.Lock()
	defer server.mu.Unlock()
	if server.fd < 0 {
		return 0
	}
	return server.pid
}

// Spawned returns how many children the server has started.
func Spawned() int {
	server.mu.Lock()
	defer server.mu.Unlock()
	return server.spawned
}

// Request is what a child is to be given.
type Request struct {
	Vars   []string // its gons_* variables, each "name=value"
	FDs    []int    // its descriptors 0, 1, 2 and on, in order
	Socket int      // which of FDs is reexec's protocol socket
	Dir    int      // a descriptor of the working directory it starts in
}

// Spawn asks the server for a child as req says, and returns its PID: a
// child of this process, to be waited for as any. It returns
// [ErrUnavailable] when there is no server or the server has gone, which
// it then gives up for good (also when the system refuses the server's
// clone, which it would for every request), and [ErrTooLarge] for a
// request over the server's limits; another failure of the server's fork
// comes back as an [os.SyscallError]. Calls from several goroutines take turns.
func Spawn(req *Request) (int, error) {
	msg, err := encode(req)
	if err != nil {
		return 0, err
	}
	rights := unix.UnixRights(append(req.FDs[:len(req.FDs):len(req.FDs)], req.Dir)...)
	server.mu.Lock()
	defer server.mu.Unlock()
	if server.fd < 0 {
		return 0, ErrUnavailable
	}
	if err := unix.Sendmsg(server.fd, msg, rights, nil, unix.MSG_NOSIGNAL); err != nil {
		giveUp()
		return 0, ErrUnavailable
	}
	// A reply carries no descriptors: read(2) takes it, and spares the
	// program unix.Recvmsg, which links every socket address type.
	var reply [ReplySize]byte
	n, err := unix.Read(server.fd, reply[:])
	for err == unix.EINTR {
		n, err = unix.Read(server.fd, reply[:])
	}
	if err != nil || n != ReplySize || binary.NativeEndian.Uint32(reply[0:]) != KindSpawned ||
		binary.NativeEndian.Uint32(reply[4:]) != ReplySize {
		// The end of the channel, a timeout, or a reply out of step.
		giveUp()
		return 0, ErrUnavailable
	}
	pid := int32(binary.NativeEndian.Uint32(reply[8:]))
	if errno := unix.Errno(binary.NativeEndian.Uint32(reply[12:])); pid <= 0 {
		if errno == unix.EINVAL {
			// The flags of the server's clone are refused, and will be
			// for every request: an emulator (qemu-user) that does not
			// take CLONE_PARENT. The program execs from now on.
			giveUp()
			return 0, ErrUnavailable
		}
		if errno == 0 {
			errno = unix.EPROTO
		}
		return 0, os.NewSyscallError("fork server: clone", errno)
	}
	server.spawned++
	return int(pid), nil
}

// encode writes a spawn request.
func encode(req *Request) ([]byte, error) {
	if len(req.Vars) > MaxVars || len(req.FDs)+1 > MaxFDs || len(req.FDs) < 3 ||
		req.Socket < 0 || req.Socket >= len(req.FDs) {
		return nil, fmt.Errorf("%w: %d variables, %d descriptors", ErrTooLarge, len(req.Vars), len(req.FDs))
	}
	size := SpawnSize
	for _, v := range req.Vars {
		size += len(v) + 1
	}
	if size > MaxMsg {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, size)
	}
	msg := make([]byte, SpawnSize, size)
	binary.NativeEndian.PutUint32(msg[0:], KindSpawn)
	binary.NativeEndian.PutUint32(msg[4:], uint32(size))
	binary.NativeEndian.PutUint32(msg[8:], uint32(len(req.FDs)))
	binary.NativeEndian.PutUint32(msg[12:], uint32(req.Socket))
	for _, v := range req.Vars {
		msg = append(append(msg, v...), 0)
	}
	return msg, nil
}

// giveUp closes the channel to a server that has gone, or does not
// answer, and reaps it. Called with server.mu held.
func giveUp() {
	unix.Close(server.fd)
	server.fd = -1
	if server.pid > 0 {
		// Gone, or stuck: either way, no server from now on.
		unix.Kill(server.pid, unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(server.pid, &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
	}
}
