package reexec

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// A standing child speaks the protocol of every child until it is ready,
// then frames of its own, each carrying the ID of the call it belongs to:
//
//	parent: 'A' request (of standingName), 'N'
//	child:  'S', then 'D' ready or 'E' error (the switch failed)
//	then, in any order and any number:
//	parent: 'C' call: ID, action name, flags, parameter
//	child:  'V' value: ID, result (JSON or compact); or 'F' failure: ID, JSON wireError
//
// The child serves each call on a goroutine of its own and answers calls
// in the order they end; a call sent while no other was outstanding may
// be served by the goroutine that read it (see serveStanding). The
// parent writes a byte to a second socket, the bell, when it sends a
// call while others are outstanding. It exits when the parent shuts its side of the
// socket down (Close) or the socket breaks; a malformed frame makes it
// exit with status 1.
const (
	tagCall    = 'C' // parent: a call
	tagValue   = 'V' // child: a call's result
	tagFailure = 'F' // child: a call's error
)

// standingName is the name of the internal action that a standing child
// runs, and the Action of the errors of Start. A program that registers
// an action under it panics at its start, as with any name taken twice.
const standingName = "reexec.Start"

func init() {
	registry[standingName] = &entry{serve: serveStanding}
}

// Errors of calls in a [Standing] child, for use with [errors.Is].
var (
	// ErrGone: the standing child ended while the call ran or before it
	// was made: it crashed, was killed, or the context given to [Start]
	// ended. The error also wraps the cause: the child's exit
	// ([*os/exec.ExitError]) or the context's error.
	ErrGone = errors.New("the standing child is gone")
	// ErrClosed: the call was made after [Standing.Close], or was in
	// flight when Close or [IdleTimeout] ended the child.
	ErrClosed = errors.New("the standing child was closed")
)

// IdleTimeout is an option of [Start] alone: it closes the standing child
// once no call has been in flight for d, as [Standing.Close] would; later
// calls fail with [ErrClosed]. A d of 0 or less means never, the default.
func IdleTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) error {
		if d < 0 {
			d = 0
		}
		o.idle = d
		if d == 0 {
			o.idle = -1 // set, for collect's check, and never
		}
		return nil
	})
}

// RunIn runs the action in the standing child s, which started once in
// its namespaces, rather than in a child of its own, and returns its
// result. It is safe to call from many goroutines at once: the child runs
// each call on a goroutine of its own, concurrently. The parameter and
// the result travel as in [Func.Run], and errors are the same [*Error]s
// with the same Op; [Standing] says what else differs from a run in a
// fresh child.
//
// When ctx ends first, RunIn returns at once with an error that wraps
// ctx.Err(); the call goes on in the child to its end, and its result is
// dropped. A call that the child's end interrupts, or that is made after
// it, fails with [ErrGone] or [ErrClosed].
func (f *Func[P, R]) RunIn(ctx context.Context, s *Standing, param P) (R, error) {
	var r R
	if s == nil {
		return r, &Error{Action: f.name, Op: "option", Err: errors.New("RunIn: a nil *Standing")}
	}
	pc, rc := f.codecs()
	b, err := s.call(ctx, f.name, pc, param)
	if err != nil {
		return r, err
	}
	if err := decodeValue(rc, b, &r); err != nil {
		return r, &Error{Action: f.name, Op: "result", Err: fmt.Errorf("malformed: %w", err)}
	}
	return r, nil
}

// Flags of a call.
const (
	// callAlone: the parent had no other call outstanding (sent, not
	// answered) when it sent this one, and rings the bell for any call
	// it sends before this one is answered: the child may serve it on
	// the goroutine that read it, which reads no further call meanwhile.
	callAlone = 1 << iota
)

// callFrame returns a call's frame, whose payload is the ID and the name
// as in a request (see encodeRequest), the flags, then the
// parameter.
func callFrame(id uint64, flags byte, name string, param []byte) []byte {
	b := newFrame(tagCall, callSize(name, param)+binaryMaxID)
	b = binary.AppendUvarint(b, id)
	b = appendString(b, name)
	b = append(b, flags)
	return sealFrame(append(b, param...))
}

// binaryMaxID bounds what the ID adds to a call's or an answer's payload.
const binaryMaxID = binary.MaxVarintLen64

// callSize is the size of a call's payload, less the ID.
func callSize(name string, param []byte) int {
	return varintLen(uint64(len(name))) + len(name) + 1 + len(param)
}

// varintLen is the size of v as a minimal unsigned varint.
func varintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// decodeCall decodes a call's payload.
func decodeCall(b []byte) (id uint64, flags byte, name string, param []byte, err error) {
	d := reqDecoder{b: b}
	id = d.uvarint("call ID")
	name = d.string("action name")
	switch {
	case d.err != nil:
		return 0, 0, "", nil, d.err
	case name == "":
		return 0, 0, "", nil, errors.New("no action name")
	case len(d.b) == 0:
		return 0, 0, "", nil, errors.New("no flags")
	case d.b[0]&^callAlone != 0:
		return 0, 0, "", nil, fmt.Errorf("unknown flags %#x", d.b[0])
	}
	return id, d.b[0], name, d.b[1:], nil
}

// answerFrame returns a value or failure frame (tag), whose payload is
// the ID, then the result (JSON or compact, see codec.go) or the JSON wireError.
func answerFrame(tag byte, id uint64, body []byte) []byte {
	b := newFrame(tag, binaryMaxID+len(body))
	b = binary.AppendUvarint(b, id)
	return sealFrame(append(b, body...))
}

// decodeAnswer decodes the payload of a value or failure frame.
func decodeAnswer(b []byte) (id uint64, body []byte, err error) {
	d := reqDecoder{b: b}
	id = d.uvarint("call ID")
	return id, d.b, d.err
}

// serveStanding serves calls on conn, in the standing child, until the
// parent closes its side, and returns the exit status.
//
// One goroutine at a time holds the reading of calls. It serves a call
// that came alone (callAlone) itself, letting go of the reading meanwhile,
// and starts a goroutine for any other: a call served where it was read
// spares the child the start of a goroutine, and the thread that the
// runtime wakes for it, which on a busy machine is most of the cost of a
// call. A call that the parent sends while others are outstanding rings
// the bell (the descriptor named in os.Args[1]), whose goroutine starts a
// reader: if the last one is busy serving a call alone, this one reads.
func serveStanding(conn *os.File) int {
	var bell *os.File
	if len(os.Args) == 2 {
		if fd, err := strconv.Atoi(os.Args[1]); err == nil && fd > 2 {
			bell = os.NewFile(uintptr(fd), "reexec-bell")
		}
	}
	os.Args = os.Args[:1]
	// The socket is blocking, as every child gets it: a read then holds
	// its thread, and the goroutines of calls wait on it until the
	// runtime takes their processor back, up to milliseconds. A
	// non-blocking copy, in the runtime's poller, frees it at once.
	conn, err := pollable(conn)
	if err == nil && bell != nil {
		bell, err = pollable(bell)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "reexec: standing child: %v\n", err)
		return 2
	}
	sc := &standingChild{r: bufio.NewReaderSize(conn, readChunk), status: make(chan int, 1), bell: bell != nil}
	sc.send = func(frame []byte) {
		sc.wmu.Lock()
		_, err := conn.Write(frame)
		sc.wmu.Unlock()
		if err != nil {
			fmt.Fprintf(os.Stderr, "reexec: standing child: sending an answer: %v\n", err)
		}
	}
	sc.send(sealFrame(newFrame(tagDone, 0)))
	if bell != nil {
		go sc.ring(bell)
	}
	go sc.read()
	return <-sc.status
}

// standingChild is the serving side of a standing child.
type standingChild struct {
	rmu    sync.Mutex // held by the goroutine that reads calls
	r      io.Reader
	wmu    sync.Mutex         // one answer at a time
	send   func(frame []byte) // writes a whole frame
	status chan int           // the exit status, once the parent closed its side (0) or broke the protocol
	bell   bool               // calls may be served alone
}

// read reads calls, as long as no other goroutine does.
func (sc *standingChild) read() {
	for sc.rmu.TryLock() {
		_, b, err := expectFrame(sc.r, tagCall)
		var id uint64
		var flags byte
		var name string
		var param []byte
		if err == nil {
			id, flags, name, param, err = decodeCall(b)
			if err != nil {
				err = fmt.Errorf("malformed call: %w", err)
			}
		}
		sc.rmu.Unlock()
		switch {
		case errors.Is(err, errNoFrame):
			sc.exit(0) // Close
			return
		case err != nil:
			fmt.Fprintf(os.Stderr, "reexec: standing child: %v\n", err)
			sc.exit(1)
			return
		case flags&callAlone != 0 && sc.bell:
			sc.serve(id, name, param, true)
		default:
			go sc.serve(id, name, param, false)
		}
	}
}

func (sc *standingChild) exit(status int) {
	select {
	case sc.status <- status:
	default:
	}
}

// ring starts a reader each time the bell rings.
func (sc *standingChild) ring(bell *os.File) {
	var buf [64]byte
	for {
		if _, err := bell.Read(buf[:]); err != nil {
			return
		}
		go sc.read()
	}
}

// serve runs one call and sends its answer. A panic becomes the call's
// error, with its stack on standard error, as in a child of its own; so
// does runtime.Goexit, which ends this goroutine alone: one that reads
// calls (alone) starts another to read on.
func (sc *standingChild) serve(id uint64, name string, param []byte, reader bool) {
	var result []byte
	var err error
	returned := false
	defer func() {
		if !returned {
			if r := recover(); r != nil {
				fmt.Fprintf(os.Stderr, "panic: %v\n\n%s", r, debug.Stack())
				err = &wireErr{kind: kindPanic, err: fmt.Errorf("%v", r)}
			} else {
				err = &wireErr{kind: kindAction, err: ErrGoexit}
				if reader {
					go sc.read()
				}
			}
		}
		if err == nil {
			sc.send(answerFrame(tagValue, id, result))
			return
		}
		kind := kindAction
		if w, ok := as[*wireErr](err); ok {
			kind, err = w.kind, w.err
		}
		b, _ := json.Marshal(toWire(kind, err))
		sc.send(answerFrame(tagFailure, id, b))
	}()
	a := lookup(name)
	switch {
	case a == nil:
		err = &wireErr{kind: kindUnknown, err: fmt.Errorf("%w %q", ErrUnknownAction, name)}
	case a.run == nil:
		err = &wireErr{kind: kindUnknown, err: fmt.Errorf("%q is no action of RegisterFunc", name)}
	default:
		result, err = a.run(param)
	}
	returned = true
}
