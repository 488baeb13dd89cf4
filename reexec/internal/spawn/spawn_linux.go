package spawn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

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

// HopBound bounds the hop to the server (the request and its reply) of a
// call whose context has no earlier deadline: the server forks and
// answers at once (to an exec request whose child shares its memory, once
// the child has executed the program or exited), so a server that does
// not is stopped or stuck, and is given up. Tests that must tell the
// bound from the call's context raise it before any call.
var HopBound = 10 * time.Second

// ErrUnavailable is returned by [Spawn] when there is no server, or no
// longer one: the caller starts the child by exec instead.
var ErrUnavailable = errors.New("no fork server")

// ErrAbandoned is returned by [Spawn] when the server took the request but
// did not answer within the bound, or died before it answered; it wraps
// [ErrUnavailable]. The server is then given up: killed, with any child
// it cloned for the request, and reaped. A child it cloned may have seen
// the request's descriptors before it was killed: the caller must not
// give the exec'd child it starts instead the same protocol socket.
var ErrAbandoned error = &abandoned{}

// abandoned is ErrAbandoned's type: an error that wraps ErrUnavailable,
// built without package fmt, whose use at initialisation would cost every
// process of the program, each reexec child among them, the page faults
// of its printer before main.
type abandoned struct{}

func (*abandoned) Error() string {
	return ErrUnavailable.Error() + ": it took a request and did not answer"
}
func (*abandoned) Unwrap() error { return ErrUnavailable }

// ErrTooLarge is returned by [Spawn] for a request the server cannot take;
// the caller starts that child by exec.
var ErrTooLarge = errors.New("request too large for the fork server")

// ErrRefused is returned by [Spawn] when the request's Check refused the
// child, which was killed before it ran anything but the taking of its
// descriptors, and reaped: the caller starts it by exec.
var ErrRefused = errors.New("the fork server's child was refused")

var server = struct {
	mu      sync.Mutex
	conn    *os.File // the program's end of the channel, non-blocking; nil: none, or given up
	pid     int      // the server's PID, a child of the program
	pidfd   int      // a pidfd of the server, opened at Serve; -1: none (Linux before 5.3)
	spawned int      // children spawned
}{pidfd: -1}

// turn is held by the call whose request and reply are on the channel:
// one at a time, each waiting for its turn no longer than its context
// allows.
var turn = make(chan struct{}, 1)

// Serve hands the channel to a server of PID pid to this package. It is
// called once, by reexec/forkserver's init, before any request, while
// the server, a child of the program that nothing else waits for yet,
// cannot have been reaped: the pidfd opened here is the server's.
func Serve(fd, pid int) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return
	}
	if pfd, err := unix.PidfdOpen(pid, 0); err == nil {
		server.pidfd = pfd
	}
	server.conn, server.pid = os.NewFile(uintptr(fd), "forkserver"), pid
}

// Available reports whether there is a server to ask.
func Available() bool {
	server.mu.Lock()
	defer server.mu.Unlock()
	return server.conn != nil
}

// PID returns the server's PID, or 0 when there is none (any more).
func PID() int {
	server.mu.Lock()
	defer server.mu.Unlock()
	if server.conn == nil {
		return 0
	}
	return server.pid
}

// Spawned returns how many children the server has started, not counting
// those that a request's Check refused.
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
	// Check, if set, runs once the request is sent, while the server
	// clones the child, which waits before its steps until its protocol
	// socket has data (see protocol.h): the caller writes there only
	// once Spawn has returned the child. When Check returns false, the
	// child is killed and reaped, and Spawn returns [ErrRefused].
	Check func() bool
}

// Child is a child the server started: a child of this process.
type Child struct {
	PID   int
	PidFD int // a pidfd of it, the caller's to close; -1 where the kernel makes none (before 5.2)
}

// Spawn asks the server for a child as req says, and returns it: a child
// of this process, to be waited for as any. Calls from several goroutines
// take turns. The wait for a turn and for the reply end with ctx: Spawn
// then returns ctx.Err() at once, and the reply it no longer waits for is
// read in the background, holding the turn, its child killed and reaped
// (it never gets its request: the caller closes the protocol socket). A
// server that does not answer within HopBound of the request is given up
// for good (see giveUp), by Spawn, which then returns [ErrAbandoned], or
// by the background read. Spawn returns [ErrUnavailable] when there is no server
// or it has gone, which it then gives up too (also when the system
// refuses the server's clone, which it would for every request), and
// [ErrTooLarge] for a request over the server's limits, and [ErrRefused]
// when req.Check refused the child; another failure of the server's fork
// comes back as an [os.SyscallError].
func Spawn(ctx context.Context, req *Request) (Child, error) {
	none := Child{PidFD: -1}
	msg, err := encode(req)
	if err != nil {
		return none, err
	}
	rights := unix.UnixRights(append(req.FDs[:len(req.FDs):len(req.FDs)], req.Dir)...)
	return roundTrip(ctx, msg, rights, req.Check)
}

// roundTrip sends a request, msg with the descriptors of rights, runs
// check, if set, and reads the reply, as Spawn describes; SpawnExec
// shares it.
func roundTrip(ctx context.Context, msg, rights []byte, check func() bool) (Child, error) {
	none := Child{PidFD: -1}
	select {
	case turn <- struct{}{}:
	case <-ctx.Done():
		return none, ctx.Err()
	}
	owed := false // the reply is read in the background, which gives the turn back
	defer func() {
		if !owed {
			<-turn
		}
	}()
	server.mu.Lock()
	conn := server.conn
	server.mu.Unlock()
	if conn == nil {
		return none, ErrUnavailable
	}
	if err := ctx.Err(); err != nil {
		return none, err
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		giveUp()
		return none, ErrUnavailable
	}
	bound := time.Now().Add(HopBound)
	deadline := bound
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	unwatch := watch(ctx, conn)

	var serr error
	werr := rc.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), msg, rights, nil, unix.MSG_NOSIGNAL)
		return serr != unix.EAGAIN
	})
	if werr != nil || serr != nil {
		unwatch()
		if errors.Is(werr, os.ErrDeadlineExceeded) && time.Now().Before(bound) {
			return none, ctxErr(ctx) // not sent: nothing is owed
		}
		// Gone (EPIPE, ECONNRESET), or not reading: stopped or stuck.
		giveUp()
		return none, ErrUnavailable
	}
	// The server clones meanwhile; the child holds until the caller
	// writes its request.
	refused := check != nil && !check()
	ch, err := readReply(rc)
	unwatch()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if time.Now().Before(bound) { // the call's context ended
			owed = true
			go func() {
				defer func() { <-turn }()
				conn.SetDeadline(bound)
				ch, err := readReply(rc)
				switch {
				case errors.Is(err, os.ErrDeadlineExceeded):
					giveUp()
				case err == nil:
					ch.reap()
				}
			}()
			return none, ctxErr(ctx)
		}
		giveUp() // no answer within the bound
		err = ErrAbandoned
	}
	if err != nil && ctx.Err() != nil {
		return none, ctx.Err() // the server was given up
	}
	if err != nil {
		return none, err
	}
	if refused {
		ch.reap()
		server.mu.Lock()
		server.spawned-- // counted as it came (see readReply): it never started
		server.mu.Unlock()
		return none, ErrRefused
	}
	return ch, nil
}

// ctxErr returns the error of ctx, which has ended: its deadline may
// have passed for the poller before its own timer marked it done.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// watch makes the deadline of conn pass when ctx is cancelled before its
// own; the function it returns ends that, once it has.
func watch(ctx context.Context, conn *os.File) (unwatch func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			conn.SetDeadline(time.Unix(1, 0))
		case <-stop:
		}
	}()
	return func() { close(stop); <-stopped }
}

// readReply reads the reply to a spawn request. A deadline that passes
// comes back as os.ErrDeadlineExceeded, with the server kept; any other
// failure to read a reply gives the server up ([ErrAbandoned]).
func readReply(rc syscall.RawConn) (Child, error) {
	none := Child{PidFD: -1}
	var reply [ReplySize]byte
	var oob [32]byte // room for one descriptor
	var n, oobn int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		n, oobn, rerr = recvmsg(int(fd), reply[:], oob[:])
		return rerr != unix.EAGAIN
	})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return none, err
	}
	if err == nil {
		err = rerr
	}
	pidfd := -1
	if fds := rightsOf(oob[:oobn]); len(fds) > 0 {
		pidfd = fds[0]
		closeFDs(fds[1:])
	}
	if err != nil || n != ReplySize || binary.NativeEndian.Uint32(reply[0:]) != KindSpawned ||
		binary.NativeEndian.Uint32(reply[4:]) != ReplySize {
		// The end of the channel, or a reply out of step: the server
		// may have cloned a child.
		if pidfd >= 0 {
			reap(pidfd, true)
		}
		giveUp()
		return none, ErrAbandoned
	}
	pid := int32(binary.NativeEndian.Uint32(reply[8:]))
	if errno := unix.Errno(binary.NativeEndian.Uint32(reply[12:])); pid <= 0 {
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
		if errno == unix.EINVAL {
			// The flags of the server's clone are refused, and will be
			// for every request: an emulator (qemu-user) that does not
			// take CLONE_PARENT. The program execs from now on.
			giveUp()
			return none, ErrUnavailable
		}
		if errno == 0 {
			errno = unix.EPROTO
		}
		return none, os.NewSyscallError("fork server: clone", errno)
	}
	server.mu.Lock()
	server.spawned++
	server.mu.Unlock()
	return Child{PID: int(pid), PidFD: pidfd}, nil
}

// reap kills and reaps a child whose caller no longer waits for it:
// through its pidfd, or by PID where the kernel made none (before Linux
// 5.2), when nothing else can have reaped it yet.
func (ch Child) reap() {
	if ch.PidFD >= 0 {
		reap(ch.PidFD, true)
		return
	}
	unix.Kill(ch.PID, unix.SIGKILL)
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(ch.PID, &ws, 0, nil); err != unix.EINTR {
			return
		}
	}
}

// recvmsg receives a message into p and its control data into oob, with
// the descriptors close-on-exec. It is recvmsg(2) without
// unix.Recvmsg, which would link every socket address type.
func recvmsg(fd int, p, oob []byte) (n, oobn int, err error) {
	iov := unix.Iovec{Base: &p[0]}
	iov.SetLen(len(p))
	msg := unix.Msghdr{Iov: &iov, Control: &oob[0]}
	msg.SetIovlen(1)
	msg.SetControllen(len(oob))
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_CMSG_CLOEXEC)
	if e != 0 {
		return 0, 0, e
	}
	return int(r), int(msg.Controllen), nil
}

// rightsOf returns the descriptors that control data carries.
func rightsOf(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for i := range msgs {
		if f, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, f...)
		}
	}
	return fds
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
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

// giveUp gives up a server that has gone, does not answer, or took a
// request of a call whose context ended: no server from now on. Called
// with turn held. A server that lives is stopped first, so that it clones
// nothing more, and any pidfd of a child it holds is taken from it
// (pidfd_getfd(2), Linux 5.6): the child it may have cloned for the last
// request, which is killed and reaped. The server is then killed and
// reaped through its pidfd, and the replies it sent meanwhile are read
// for their children's pidfds. Before Linux 5.3 there is no pidfd: the
// server is killed and reaped by PID, and a child it cloned without
// answering is left to end by itself (its protocol socket closed) as a
// zombie.
func giveUp() {
	server.mu.Lock()
	conn := server.conn
	server.conn = nil
	server.mu.Unlock()
	if conn == nil {
		return
	}
	var kids []int
	if server.pidfd >= 0 {
		unix.PidfdSendSignal(server.pidfd, unix.SIGSTOP, nil, 0)
		kids = takeChildren(server.pidfd)
		unix.PidfdSendSignal(server.pidfd, unix.SIGKILL, nil, 0)
		// ECHILD: a wait for any child elsewhere in the program reaped
		// it; its pidfd still names it, so nothing else was signalled.
		reap(server.pidfd, false)
		server.pidfd = -1
	} else if server.pid > 0 {
		unix.Kill(server.pid, unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(server.pid, &ws, 0, nil); err != unix.EINTR {
				break
			}
		}
	}
	// The server is dead: what it sent is all there is.
	if rc, err := conn.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { kids = append(kids, drain(int(fd))...) })
	}
	conn.Close()
	for _, k := range kids {
		reap(k, true)
	}
}

// drain reads the replies left on the non-blocking channel fd and returns
// the pidfds they carry.
func drain(fd int) []int {
	var kids []int
	var reply [ReplySize]byte
	var oob [32]byte
	for {
		n, oobn, err := recvmsg(fd, reply[:], oob[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 && oobn == 0 {
			return kids // EAGAIN: no more; 0: the server's end is closed
		}
		kids = append(kids, rightsOf(oob[:oobn])...)
	}
}

// takeChildren returns pidfds of the children of this process that the
// server holds pidfds of, taken from it with pidfd_getfd(2). The server
// holds at most the descriptors of one request, the channel and the
// child's pidfd, in its lowest slots.
func takeChildren(srv int) []int {
	var kids []int
	for n := 0; n <= MaxFDs+8; n++ {
		fd, err := unix.PidfdGetfd(srv, n, 0)
		if err != nil {
			if err == unix.EBADF {
				continue
			}
			break // ESRCH, EPERM, ENOSYS: nothing to take
		}
		if isChild(fd) {
			kids = append(kids, fd)
		} else {
			unix.Close(fd)
		}
	}
	return kids
}

// isChild reports whether fd is a pidfd of a child of this process that
// is not reaped yet, without reaping it.
func isChild(fd int) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PIDFD, fd, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return err == nil
		}
	}
}

// reap kills (when kill is set) and reaps the child that pidfd names,
// and closes pidfd.
func reap(pidfd int, kill bool) {
	if kill {
		unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
	}
	var info unix.Siginfo
	for unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WEXITED, nil) == unix.EINTR {
	}
	unix.Close(pidfd)
}

// Stop ends the server for good, once the call whose request is on the
// channel has its reply (and a reply read in the background is in): the
// server is killed and reaped, through its pidfd where there is one, and
// every later call finds no server ([ErrUnavailable]) and starts its
// child by exec. The children it started before are the program's, and
// live on. Stop is safe to call more than once, and from any goroutine.
func Stop() {
	turn <- struct{}{}
	defer func() { <-turn }()
	server.mu.Lock()
	conn, pid, pidfd := server.conn, server.pid, server.pidfd
	server.conn, server.pidfd = nil, -1
	server.mu.Unlock()
	if conn == nil {
		return
	}
	conn.Close()
	if pidfd >= 0 {
		reap(pidfd, true) // no request is on the channel: no child is owed
		return
	}
	unix.Kill(pid, unix.SIGKILL)
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
			return
		}
	}
}
