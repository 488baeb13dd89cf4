package reexec

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Standing is a child started once, in the namespaces and with the
// options of its [Start], that runs actions registered with
// [RegisterFunc] many times, through [Func.RunIn], until [Standing.Close].
// A call then costs a message each way and the action itself, instead of
// a process whose Go runtime starts from nothing.
//
// A call in a standing child is not a call in a fresh child:
//
//	                            fresh child (Func.Run)      standing child (Func.RunIn)
//	namespaces, root, dir,      joined at each call,        joined once, at Start, by
//	credentials                 by path or by Target         path or by Target
//	parameter, result, errors   JSON, strict; *Error, Op    the same
//	panic, runtime.Goexit       ErrPanic, ErrGoexit          the same; the child goes on
//	the process                 one per call                 one for all calls: PID,
//	                                                         memory, descriptors, the
//	                                                         working directory, os.Args
//	                                                         (none) and the environment
//	                                                         are shared with every other
//	                                                         call, before and at once
//	state left by a call        gone with its child          seen by later calls (package
//	                                                         variables, caches, chdir,
//	                                                         files it left open)
//	concurrency                 a process per call           a goroutine per call, all
//	                                                         at once in one process
//	cancellation                kills the child             the call returns; the action
//	                                                         runs on to its end, its
//	                                                         result dropped
//	os.Exit, a crash            fails that call             ends the child: every call in
//	                                                         flight fails with ErrGone
//	Error.Stderr                the child's                  the end of the standing
//	                                                         child's, all calls mixed
//	Stdout, Stderr options      per call                     at Start, for all calls
//	plain actions (Register)    run                          not offered: their result is
//	                                                         the process's standard output
//
// A standing child dies with the program (SIGKILL by the parent-death
// signal) and when the context given to [Start] ends; the calls in flight
// then fail with [ErrGone], and so does every later call. Its methods are
// safe for concurrent use. Close it when done.
type Standing struct {
	c       *child
	stderr  *tail
	startCx context.Context
	idle    time.Duration

	wmu  sync.Mutex // one frame at a time on c.conn
	bell int        // the parent's end of the bell, non-blocking; closed by reap

	// There is no reader of answers of its own: a caller waiting for its
	// answer reads them, for every call, while it holds rtok, and keeps
	// reading until its own is in. Its goroutine is the one that the
	// poller wakes when the answer comes, rather than a reader's that
	// would then wake it: one wake-up a call, not two or three.
	rtok  chan struct{} // the right to read answers (see lead); gone with reading
	rend  chan struct{} // closed once reading has ended: the socket's end or a broken protocol
	rd    frames        // what was read and not yet handed out; the holder of rtok's
	rdone bool          // reading has ended; the holder of rtok's
	// dl: a read deadline may be set on the socket (a stall's, or one
	// in the past from a caller's ctx), which the next read clears
	// first; most reads have none to clear.
	dl atomic.Bool

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan answer
	// outstanding: calls sent and not yet answered, cancelled ones too,
	// which the child may still be running.
	outstanding int
	err         error // set once the child is gone: what calls fail with
	closing     bool
	inFlight    int
	timer       *time.Timer // IdleTimeout

	closeOnce sync.Once
	closeErr  error
	exitErr   error         // the child's exit, once reaped
	reaped    chan struct{} // closed once the child is reaped and every goroutine ended
}

// answer is what comes back for a call: a value or failure frame, or the
// end of the child.
type answer struct {
	tag  byte
	body []byte
	err  error // the child is gone
}

// Start starts a standing child, with the options of a run: [Namespaces]
// or [Target], [Root], [Dir], [Credential], [Environment], [Stdout],
// [Stderr], and [IdleTimeout]. It returns once the child has joined its
// namespaces and is ready for calls, or with the error of a run whose
// child failed to start or to switch. The child ends with ctx, with
// [Standing.Close], or when the program ends.
func Start(ctx context.Context, opts ...Option) (*Standing, error) {
	o, err := collect(standingName, opts)
	if err != nil {
		return nil, err
	}
	if o.paramSet || o.result != nil || o.inProcess {
		return nil, &Error{Action: standingName, Op: "option", Err: errors.New("the Param, Result and InProcess options are not for Start")}
	}
	c, err := newChild(ctx, standingName, o, nil)
	if err != nil {
		return nil, err
	}
	c.mayFork = true
	// The bell: a socket whose child end the child finds by the number
	// in its os.Args[1] (see serveStanding).
	bells, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		if err = unix.SetNonblock(bells[0], true); err != nil {
			unix.Close(bells[0])
			unix.Close(bells[1])
		}
	}
	if err != nil {
		c.release()
		c.conn.Close()
		return nil, c.fail("start", os.NewSyscallError("socketpair", err))
	}
	bellPeer := os.NewFile(uintptr(bells[1]), "reexec-bell")
	c.passed = append(c.passed, bellPeer)
	c.cmd.ExtraFiles = append(c.cmd.ExtraFiles, bellPeer)
	c.req.Args = []string{strconv.Itoa(childFD + len(c.cmd.ExtraFiles) - 1)}
	out, errOut := o.stdout, o.stderr
	if out != nil && sameWriter(out, errOut) {
		l := &lockedWriter{w: out}
		out, errOut = l, l
	}
	c.cmd.Stdout = out
	c.cmd.Stderr = c.stderr
	if errOut != nil {
		c.cmd.Stderr = io.MultiWriter(c.stderr, errOut)
	}
	if err := c.start(); err != nil {
		unix.Close(bells[0])
		return nil, err
	}
	// The child answers the request with 'D' once it serves calls: the
	// outcome of a run, read as for any other.
	c.io.Wait()
	if c.ferr != nil || c.tag != tagDone {
		unix.Close(bells[0])
		if _, err := c.wait(nil); err != nil {
			return nil, err
		}
		return nil, c.fail("result", errors.New("the standing child ended before it served calls"))
	}
	c.conn.SetDeadline(time.Time{})
	s := &Standing{c: c, stderr: c.stderr, startCx: ctx, idle: o.idle, bell: bells[0],
		pending: map[uint64]chan answer{}, reaped: make(chan struct{}),
		rtok: make(chan struct{}, 1), rend: make(chan struct{})}
	s.rtok <- struct{}{}
	go s.reap()
	s.mu.Lock()
	s.armIdle()
	s.mu.Unlock()
	return s, nil
}

// lead reads answers while the caller of call id holds rtok, hands
// those of other calls to them, and returns its own, with true; or false
// when ctx ended first or reading ended (then reap answers). It gives rtok
// back unless reading ended.
func (s *Standing) lead(ctx context.Context, id uint64, ch <-chan answer) (answer, bool) {
	defer func() {
		if !s.rdone {
			s.rtok <- struct{}{}
		}
	}()
	if ctx.Done() != nil {
		// A read that the end of ctx interrupts returns a deadline
		// error; one that a late run of this interrupts, in a later
		// holder, reads on (see readAnswer).
		stop := context.AfterFunc(ctx, func() {
			s.dl.Store(true)
			s.c.conn.SetReadDeadline(longAgo)
		})
		defer stop()
	}
	for {
		select {
		case a := <-ch: // read by the holder before this one
			return a, true
		default:
		}
		got, a, ok := s.readAnswer(ctx)
		switch {
		case !ok && (s.rdone || ctx.Err() != nil):
			return answer{}, false
		case ok && s.deliver(got, a, id):
			return a, true
		}
	}
}

// longAgo is a deadline in the past: it interrupts a read.
var longAgo = time.Unix(1, 0)

// deliver forgets call id, now answered, and hands a to its caller if it
// still waits; it reports true instead when id is own, the reader's call
// (IDs start at 1: 0 is no call's).
func (s *Standing) deliver(id uint64, a answer, own uint64) bool {
	s.mu.Lock()
	ch := s.pending[id]
	delete(s.pending, id)
	s.outstanding--
	s.mu.Unlock()
	switch {
	case id == own:
		return true
	case ch != nil: // nil: the call was cancelled
		ch <- a
	}
	return false
}

// readAnswer reads the next answer, for the holder of rtok, and returns
// its call's ID and the answer, with true; false when ctx ended or the
// read was interrupted first, or reading ended (s.rdone). A frame that
// breaks the protocol, or stops arriving for the stall period half-way,
// kills the child.
func (s *Standing) readAnswer(ctx context.Context) (uint64, answer, bool) {
	for {
		tag, b, err := s.rd.next()
		if err == nil && b != nil {
			var id uint64
			if id, b, err = decodeAnswer(b); err == nil {
				return id, answer{tag: tag, body: b}, true
			}
		}
		if err != nil {
			s.breakOff(err)
			return 0, answer{}, false
		}
		// Half a frame may stall no longer than stall; none may wait
		// for ever. Reset before a read whenever one may have been
		// set (dl): a deadline in the past, set for an earlier
		// holder's ctx, is not this one's.
		partial := s.rd.partial()
		var armed time.Time
		if partial {
			armed = time.Now()
			s.dl.Store(true)
			s.c.conn.SetReadDeadline(armed.Add(stall))
		} else if s.dl.Swap(false) {
			s.c.conn.SetReadDeadline(time.Time{})
		}
		if ctx.Err() != nil {
			return 0, answer{}, false
		}
		n, err := s.c.conn.Read(s.rd.space())
		s.rd.buf = s.rd.buf[:len(s.rd.buf)+n]
		switch {
		case n > 0 || err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.dl.Store(true) // set by an earlier holder's ctx, say
			if partial && time.Since(armed) >= stall {
				s.breakOff(fmt.Errorf("a frame stalled half-way for %v: %w", stall, err))
			}
			return 0, answer{}, false
		case errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, os.ErrClosed):
			// The end of the child, or reap's Close of the socket
			// that a process the action started kept open.
			s.end()
			return 0, answer{}, false
		default:
			s.breakOff(err)
			return 0, answer{}, false
		}
	}
}

// breakOff kills the child that broke the protocol with err, and ends
// reading.
func (s *Standing) breakOff(err error) {
	s.c.broken.Store(true)
	s.c.ferr = err
	s.c.kill()
	s.end()
}

// end ends reading: the holder of rtok keeps it, and reap answers.
func (s *Standing) end() {
	s.rdone = true
	close(s.rend)
}

// frames is a buffer of frames that arrive in pieces: a read that ends
// half-way through a frame loses nothing of it.
type frames struct {
	buf []byte // the bytes read; those before off have been handed out
	off int
}

// minRead is the room a read gets at least.
const minRead = 4 << 10

// next returns the next whole frame's tag and payload (a copy), nil when
// there is none yet, or an error if the frame breaks the protocol.
func (f *frames) next() (byte, []byte, error) {
	rest := f.buf[f.off:]
	if len(rest) < frameHeader {
		return 0, nil, nil
	}
	tag, n := rest[0], binary.BigEndian.Uint64(rest[1:frameHeader])
	switch {
	case tag != tagValue && tag != tagFailure:
		return 0, nil, fmt.Errorf("unexpected frame %q (%d bytes), want one of %q", tag, n, []byte{tagValue, tagFailure})
	case n > maxPayload:
		return 0, nil, fmt.Errorf("frame %q of %d bytes: %w of %d bytes", tag, n, errFrameTooLarge, maxPayload)
	case uint64(len(rest)-frameHeader) < n:
		return 0, nil, nil
	}
	payload := make([]byte, n, n+1) // never nil
	copy(payload, rest[frameHeader:])
	f.off += frameHeader + int(n)
	if f.off == len(f.buf) {
		f.buf, f.off = f.buf[:0], 0
		if cap(f.buf) > readChunk {
			f.buf = nil // a large frame's room
		}
	}
	return tag, payload, nil
}

// partial reports whether part of a frame has arrived.
func (f *frames) partial() bool { return f.off < len(f.buf) }

// space returns room to read into, after what the buffer holds: what has
// arrived is what it grows by, not what a header announces.
func (f *frames) space() []byte {
	if cap(f.buf)-len(f.buf) < minRead && f.off > 0 {
		n := copy(f.buf, f.buf[f.off:])
		f.buf, f.off = f.buf[:n], 0
	}
	if cap(f.buf)-len(f.buf) < minRead {
		f.buf = slices.Grow(f.buf, max(minRead, min(len(f.buf), readChunk)))
	}
	return f.buf[len(f.buf):cap(f.buf)]
}

// reap waits for the child to end, for what it sent to have been read,
// then fails the calls still in flight.
func (s *Standing) reap() {
	var werr error
	if s.c.fork != nil {
		werr = s.c.fork.wait()
	} else {
		werr = s.c.cmd.Wait()
	}
	// A process the action started may hold the socket open.
	timer := time.AfterFunc(grace, func() { s.c.conn.Close() })
	select {
	case <-s.rtok:
		// No call reads: reap does, until the end.
		for !s.rdone {
			if id, a, ok := s.readAnswer(context.Background()); ok {
				s.deliver(id, a, 0)
			}
		}
	case <-s.rend:
	}
	timer.Stop()
	s.c.conn.Close()
	s.wmu.Lock() // no call rings it any more
	unix.Close(s.bell)
	s.bell = -1
	s.wmu.Unlock()

	s.mu.Lock()
	var cause error
	switch {
	case s.closing:
		cause = ErrClosed
	case s.startCx.Err() != nil:
		cause = fmt.Errorf("%w: %w", ErrGone, s.startCx.Err())
	case s.c.broken.Load():
		cause = fmt.Errorf("%w: it broke the protocol and was killed: %w", ErrGone, s.c.ferr)
	case werr != nil:
		cause = fmt.Errorf("%w: %w", ErrGone, werr)
	default:
		cause = fmt.Errorf("%w: it exited with status 0 (an action that calls os.Exit?)", ErrGone)
	}
	s.err, s.exitErr = cause, werr
	pending := s.pending
	s.pending = nil
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	for _, ch := range pending {
		ch <- answer{err: cause}
	}
	close(s.reaped)
}

// call sends a call, its parameter encoded with pc (see encodeValue),
// and waits for its answer: the encoded result.
func (s *Standing) call(ctx context.Context, name string, pc *codec, param any) ([]byte, error) {
	fail := func(op string, err error) error {
		return &Error{Action: name, Op: op, Err: err, Stderr: s.stderr.String()}
	}
	if err := ctx.Err(); err != nil {
		return nil, fail("context", err)
	}
	p, err := encodeValue(pc, param)
	if err != nil {
		return nil, fail("param", err)
	}
	if uint64(callSize(name, p))+binaryMaxID > maxPayload {
		return nil, fail("param", fmt.Errorf("%w of %d bytes", errFrameTooLarge, maxPayload))
	}
	ch := make(chan answer, 1)
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return nil, fail("start", err)
	}
	s.next++
	id := s.next
	s.pending[id] = ch
	alone := s.outstanding == 0
	s.outstanding++
	s.inFlight++
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	defer s.ended(id)

	var flags byte
	if alone {
		flags = callAlone
	}
	s.wmu.Lock()
	if !alone && s.bell >= 0 {
		// The goroutine that read the last call may be serving it
		// alone: another is to read this one, and is to be reading
		// before a large frame fills the socket. A full bell has rung.
		unix.Write(s.bell, []byte{0})
	}
	_, _ = s.c.conn.Write(callFrame(id, flags, name, p))
	s.wmu.Unlock()
	// A child that cannot read the call is gone: reap says so.
	for {
		select {
		case a := <-ch:
			return s.decode(name, a)
		case <-ctx.Done():
			return nil, fail("context", ctx.Err())
		case <-s.rtok:
			if a, ok := s.lead(ctx, id, ch); ok {
				return s.decode(name, a)
			}
			if err := ctx.Err(); err != nil {
				return nil, fail("context", err)
			}
			// Reading has ended: reap answers.
		}
	}
}

// ended forgets call id, once it returned, and arms the idle timer.
func (s *Standing) ended(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending != nil {
		delete(s.pending, id)
	}
	s.inFlight--
	s.armIdle()
}

// armIdle starts the idle timer when no call is in flight; s.mu is held.
func (s *Standing) armIdle() {
	if s.idle <= 0 || s.inFlight > 0 || s.err != nil || s.closing {
		return
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(s.idle, s.idleClose)
		return
	}
	s.timer.Reset(s.idle)
}

// idleClose closes the child, unless a call began since the timer fired.
func (s *Standing) idleClose() {
	s.mu.Lock()
	busy := s.inFlight > 0
	s.mu.Unlock()
	if !busy {
		s.Close()
	}
}

// decode turns an answer into the call's result or error.
func (s *Standing) decode(name string, a answer) ([]byte, error) {
	fail := func(op string, err error) error {
		return &Error{Action: name, Op: op, Err: err, Stderr: s.stderr.String()}
	}
	switch {
	case a.err != nil:
		return nil, fail("exit", a.err)
	case a.tag == tagValue:
		return a.body, nil
	}
	var w wireError
	if err := json.Unmarshal(a.body, &w); err != nil {
		return nil, fail("result", fmt.Errorf("malformed error report: %w", err))
	}
	op := w.Kind
	if op == kindUnknown {
		op = "start"
	}
	return nil, fail(op, w.cause())
}

// Close ends the child: it shuts the socket down, which makes the child
// exit at once, even while calls run, and waits for it, killing it after a grace period of 2 s
// if it does not. Calls in flight fail with [ErrClosed], as do later
// ones. It returns the child's exit error if the child ended badly
// because of Close, nil otherwise, and nil when called again.
func (s *Standing) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		gone := s.err != nil
		s.closing = !gone
		if s.timer != nil {
			s.timer.Stop()
		}
		s.mu.Unlock()
		if gone {
			<-s.reaped
			return
		}
		if rc, err := s.c.conn.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { unix.Shutdown(int(fd), unix.SHUT_WR) })
		}
		// A call served alone may keep the child's reader busy: the
		// bell starts one that sees the end.
		s.wmu.Lock()
		if s.bell >= 0 {
			unix.Write(s.bell, []byte{0})
		}
		s.wmu.Unlock()
		timer := time.NewTimer(grace)
		select {
		case <-s.reaped:
		case <-timer.C:
			s.c.kill()
			<-s.reaped
		}
		timer.Stop()
		s.closeErr = s.exitErr
	})
	return s.closeErr
}

// PID returns the process ID of the standing child, as the program sees
// it: with a PID namespace, that of the relay outside it.
func (s *Standing) PID() int {
	if s.c.fork != nil {
		return s.c.fork.proc.Pid
	}
	return s.c.cmd.Process.Pid
}

// pollable returns a non-blocking copy of the standing child's socket, in
// the runtime's poller (see serveStanding).
func pollable(conn *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(conn.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fd), "reexec-standing"), nil
}
