package reexec

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gonsproject/gons/status"
)

// Sentinel errors that an [*Error] may wrap, for use with [errors.Is].
var (
	// ErrUnknownAction: no action is registered under the name.
	ErrUnknownAction = errors.New("unknown action")
	// ErrPanic: the action panicked; the message holds the panic value
	// and Error.Stderr the stack.
	ErrPanic = errors.New("action panicked")
	// ErrGoexit: the action called [runtime.Goexit], as t.FailNow-style
	// helpers do, instead of returning.
	ErrGoexit = errors.New("the action called runtime.Goexit instead of returning")
	// ErrNoResult: the child ended without reporting a result: the
	// action called os.Exit itself, or a plain action with a Result
	// target printed nothing.
	ErrNoResult = errors.New("no result")
	// ErrNotChecked: the program did not call CheckAction first thing in
	// main or TestMain. Either this process did not (no child was
	// started), or the child ended before it reached CheckAction.
	ErrNotChecked = errors.New("reexec.CheckAction must be called first thing in main (or TestMain)")
	// ErrTooDeep: an action that runs actions, which run actions, and so
	// on, more than [MaxDepth] children deep.
	ErrTooDeep = errors.New("nested more than " + strconv.Itoa(MaxDepth) + " children deep")
	// ErrEmbeddedStart: Start, Run, Output or CombinedOutput was called
	// on the [exec.Cmd] embedded in a [Cmd], which would start a child
	// that never learns what to run, instead of on the Cmd itself.
	ErrEmbeddedStart = errors.New("reexec: start the reexec.Cmd (cmd.Start, cmd.Run, cmd.Output), not its embedded exec.Cmd")
	// ErrThreadPIDNamespace: the caller's goroutine is locked to a thread
	// whose children start in another PID namespace than the thread's
	// own (it joined one with setns(2), or unshared one and its first
	// child has exited), where the child cannot start: package os/exec
	// kills a child that does not see its parent, as a child in a
	// namespace below its parent's does not, and a namespace whose first
	// process has exited takes no more. The message names the
	// namespaces. Run the action in a PID namespace with [Namespaces]
	// from a thread whose children start in its own.
	ErrThreadPIDNamespace = errors.New("the calling thread's children start in another PID namespace")
)

// MaxDepth is how many children deep actions may run actions: a child of a
// child of ... MaxDepth levels may still run no further action.
const MaxDepth = 8

// StderrMax is how many bytes of the child's standard error, the last
// ones, an [*Error] keeps.
const StderrMax = 4096

// Error is the error of a failed run of an action.
type Error struct {
	// Action is the name of the action.
	Action string
	// Op is the step that failed:
	//	option  the caller's options or arguments are wrong; nothing was started
	//	target  the process that Target names could not be opened (pidfd_open:
	//	        ESRCH when it is gone); nothing was started
	//	start   the child could not be started, or ended before it reached
	//	        CheckAction (ErrUnknownAction, ErrNotChecked, ErrTooDeep, exec errors);
	//	        the standing child of RunIn had ended before the call (ErrGone, ErrClosed)
	//	switch  the child could not join its namespaces (wraps a *status.Error)
	//	param   the parameter could not be encoded or decoded
	//	action  the action returned an error, or called runtime.Goexit (ErrGoexit)
	//	panic   the action panicked (ErrPanic)
	//	exit    the child exited unsuccessfully or died by a signal (wraps an *exec.ExitError);
	//	        the standing child of RunIn ended while the call ran (ErrGone, ErrClosed)
	//	result  the result is missing (ErrNoResult) or malformed, or the child
	//	        broke the protocol (the child was killed)
	//	context the context was done first; the child was killed (wraps ctx.Err())
	Op string
	// Err is the cause.
	Err error
	// Stderr is the end (at most StderrMax bytes) of what the child
	// wrote to its standard error.
	Stderr string
}

// Error returns the error as, for example,
// reexec "answer": action: no such file or directory; stderr: "...".
func (e *Error) Error() string {
	if e == nil {
		return "reexec: <nil>"
	}
	// Concatenation: less code than a strings.Builder's inlined writes.
	s := "reexec " + strconv.Quote(e.Action) + ": " + e.Op
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if out := strings.TrimRight(e.Stderr, "\n"); out != "" {
		s += "; stderr: " + strconv.Quote(out)
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Kinds of error frames that the child sends.
const (
	kindSwitch  = "switch"
	kindParam   = "param"
	kindAction  = "action"
	kindPanic   = "panic"
	kindResult  = "result"
	kindUnknown = "unknown"
)

// wireErr is an error with the kind to report it as.
type wireErr struct {
	kind string
	err  error
}

func (e *wireErr) Error() string { return e.err.Error() }
func (e *wireErr) Unwrap() error { return e.err }

// wireError is an error as it crosses from child to parent, in JSON.
type wireError struct {
	Kind  string   `json:"kind"`
	Msg   string   `json:"msg"`
	Errno int      `json:"errno,omitempty"`
	Is    []string `json:"is,omitempty"` // names of status sentinels the error matches
	// Of a *status.Error: Msg is the message of its Err.
	Op   string `json:"op,omitempty"`
	Type string `json:"type,omitempty"`
	Path string `json:"path,omitempty"`
}

// sentinels are the sentinels of this package and of package status, by
// name, so that errors.Is still finds them after the trip.
var sentinels = []struct {
	name string
	err  error
}{
	{"unknown-variable", status.ErrUnknownVariable},
	{"duplicate", status.ErrDuplicate},
	{"syntax", status.ErrSyntax},
	{"unknown-type", status.ErrUnknownType},
	{"not-in-order", status.ErrNotInOrder},
	{"wrong-type", status.ErrWrongType},
	{"secure", status.ErrSecure},
	{"not-run", status.ErrNotRun},
	{"conflict", status.ErrConflict},
	{"reused-pid", status.ErrReusedPID},
	{"unknown-action", ErrUnknownAction},
	{"panic", ErrPanic},
	{"goexit", ErrGoexit},
	{"no-result", ErrNoResult},
	{"not-checked", ErrNotChecked},
	{"too-deep", ErrTooDeep},
}

// toWire turns an error of the child into its wire form.
func toWire(kind string, err error) *wireError {
	w := &wireError{Kind: kind, Msg: err.Error()}
	if se, ok := as[*status.Error](err); ok && kind == kindSwitch {
		w.Op, w.Type, w.Path = se.Op, se.Type, se.Path
		w.Msg = ""
		if se.Err != nil {
			w.Msg = se.Err.Error()
		}
		err = se.Err
	}
	if errno, ok := as[syscall.Errno](err); ok {
		w.Errno = int(errno)
	}
	for _, s := range sentinels {
		if err != nil && errors.Is(err, s.err) {
			w.Is = append(w.Is, s.name)
		}
	}
	return w
}

// cause rebuilds the error on the parent's side.
func (w *wireError) cause() error {
	var inner error
	if w.Errno != 0 && len(w.Is) == 0 && w.Msg == syscall.Errno(w.Errno).Error() {
		inner = syscall.Errno(w.Errno)
	} else if w.Msg != "" || w.Errno != 0 {
		inner = &remoteError{msg: w.Msg, errno: syscall.Errno(w.Errno), is: w.Is}
	}
	switch w.Kind {
	case kindSwitch:
		return &status.Error{Op: w.Op, Type: w.Type, Path: w.Path, Err: inner}
	case kindPanic:
		return &remoteError{msg: "panic: " + w.Msg, is: []string{"panic"}}
	case kindUnknown:
		return ErrUnknownAction
	}
	return inner
}

// remoteError is an error of the child: its message, and what errors.Is
// should still find in it.
type remoteError struct {
	msg   string
	errno syscall.Errno
	is    []string
}

func (e *remoteError) Error() string { return e.msg }

// Is reports whether the child's error matched target, a sentinel of
// this package or of package status. Errnos are found through Unwrap.
func (e *remoteError) Is(target error) bool {
	for _, name := range e.is {
		for _, s := range sentinels {
			if s.name == name && s.err == target {
				return true
			}
		}
	}
	return false
}

// Unwrap returns the errno of the child's error, if it had one.
func (e *remoteError) Unwrap() error {
	if e.errno != 0 {
		return e.errno
	}
	return nil
}

// tail keeps the last StderrMax bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= StderrMax {
		t.buf = append(t.buf[:0], p[len(p)-StderrMax:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - StderrMax; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// as is errors.As for a target of type E, through a type assertion rather
// than reflection: errors.As brings package reflectlite, about 25 KB, into
// every program that imports reexec.
func as[E error](err error) (E, bool) {
	var zero E
	for err != nil {
		if e, ok := err.(E); ok {
			return e, true
		}
		if x, ok := err.(interface{ As(any) bool }); ok {
			e := new(E)
			if x.As(e) {
				return *e, true
			}
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				if e, ok := as[E](err); ok {
					return e, true
				}
			}
			return zero, false
		default:
			return zero, false
		}
	}
	return zero, false
}

// untyped leaves out of a switch error the namespace type that the child
// chose rather than the caller: given Target without types, the child
// opens /proc/PID/ns/TYPE for one type after the other, and the first
// refusal (another user's process: EACCES) would name a type the caller
// never asked for. The error names the directory instead; errors.Is finds
// what it found before.
func untyped(err error, pid int) error {
	se, ok := err.(*status.Error)
	if !ok || pid == 0 || se.Type == "" {
		return err
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/ns"
	if se.Path != dir+"/"+se.Type {
		return err
	}
	return &status.Error{Op: se.Op, Path: dir, Err: se.Err}
}
