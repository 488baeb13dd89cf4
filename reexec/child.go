package reexec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gonsproject/gons/internal/handoff"
	"github.com/gonsproject/gons/status"
)

// inherited is the value of GONS_REEXEC_FD as the process started with it:
// the descriptor of the protocol socket in a child, "" in any other
// process; inEnv is whether the variable is still in the environment.
// checked is whether CheckAction has run; depth is how many reexec
// children deep this process is (0: it is none).
var (
	inherited, inEnv = inheritedFD()
	checked          atomic.Bool
	depth            int
)

// inheritedFD returns the value of GONS_REEXEC_FD. Package early's
// constructor takes the variable out of the environment, wipes it, and
// hands its value over in its record, which the linker makes
// handoff.Ctor point at, so it is there before any Go code runs; without
// the constructor (no cgo, internal linking) it is still in the
// environment.
func inheritedFD() (fd string, inEnv bool) {
	if fd, ok := handoff.ReexecFD(); ok {
		return strconv.Itoa(fd), false
	}
	fd, inEnv = os.LookupEnv(envFD)
	return fd, inEnv
}

// The parameter of the running plain action, for DecodeParam.
var (
	childParam    []byte
	childHasParam bool
	childRunning  bool
)

// ErrNoParam is returned by [DecodeParam] when the parent gave no
// [Param].
var ErrNoParam = errors.New("no parameter was given")

// CheckAction must be called first thing in main, or in TestMain of a
// test binary that runs actions: [RunReexecAction], [Func.Run] and
// [Command] refuse to start a child before it ran. In a child it runs the
// requested action and exits the process through [os.Exit] (so deferred
// exit hooks, such as those writing coverage data, run). In any other
// process it returns at once.
func CheckAction() {
	checked.Store(true)
	if inherited == "" {
		return
	}
	os.Exit(runChild())
}

// DecodeParam decodes the parameter of the running plain action into v,
// strictly: unknown fields are an error. It returns [ErrNoParam] when the
// parent gave none, and an error when called outside an action.
func DecodeParam(v any) error {
	if !childRunning {
		return errors.New("reexec: DecodeParam called outside a plain action")
	}
	if !childHasParam {
		return ErrNoParam
	}
	return decodeStrict(childParam, v)
}

// runChild runs the requested action in the child and returns the exit
// status.
func runChild() int {
	if inEnv {
		// Only here: the first use of the environment costs a cold
		// child tens of microseconds, and the constructor took the
		// variable out already where it ran.
		os.Unsetenv(envFD)
	}
	fd, err := strconv.Atoi(inherited)
	if err == nil && fd < 0 {
		err = errors.New("negative")
	}
	if err == nil {
		err = checkSocket(fd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "reexec: %s=%q is not the protocol socket: %v\n", envFD, inherited, err)
		return 2
	}
	// The socket, and whatever else the parent passed, must not leak
	// into processes the action starts.
	closeOnExecFrom(fd)
	conn := os.NewFile(uintptr(fd), "reexec")
	fail := func(kind string, err error) int {
		b, _ := json.Marshal(toWire(kind, err))
		if werr := writeFrame(conn, tagError, b); werr != nil {
			fmt.Fprintf(os.Stderr, "reexec: %s: %v (reporting it: %v)\n", kind, err, werr)
		}
		return 1
	}
	if err := writeFrame(conn, tagStarted, nil); err != nil {
		fmt.Fprintf(os.Stderr, "reexec: telling the parent that the child runs: %v\n", err)
		return 2
	}
	req, param, err := takeRequest(conn)
	if err != nil {
		return fail(kindParam, fmt.Errorf("receiving the request: %w", err))
	}
	depth = req.Depth
	if err := status.Err(); err != nil {
		return fail(kindSwitch, err)
	}
	a := lookup(req.Name)
	if a == nil {
		return fail(kindUnknown, fmt.Errorf("%w %q", ErrUnknownAction, req.Name))
	}
	os.Args = append(os.Args[:1:1], req.Args...)
	if a.serve != nil {
		return a.serve(conn)
	}
	if req.Stdin && param != nil {
		if err := paramToStdin(param); err != nil {
			return fail(kindParam, fmt.Errorf("making the parameter standard input: %w", err))
		}
	}
	result, err := call(a, param, fail)
	if err != nil {
		if w, ok := as[*wireErr](err); ok {
			return fail(w.kind, w.err)
		}
		return fail(kindAction, err)
	}
	if a.plain != nil {
		err = writeFrame(conn, tagDone, nil)
	} else {
		err = writeFrame(conn, tagResult, result)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "reexec: sending the result: %v\n", err)
		return 1
	}
	return 0
}

// call runs the action. It turns a panic into an error, printing the
// panic's stack to standard error, and reports a runtime.Goexit through
// fail and exits: a goroutine that ends that way never returns here.
func call(a *entry, param []byte, fail func(string, error) int) (result []byte, err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "panic: %v\n\n%s", r, debug.Stack())
			err = &wireErr{kind: kindPanic, err: fmt.Errorf("%v", r)}
			return
		}
		os.Exit(fail(kindAction, ErrGoexit))
	}()
	if a.plain != nil {
		childParam, childHasParam, childRunning = param, param != nil, true
		a.plain()
	} else {
		result, err = a.run(param)
	}
	returned = true
	return result, err
}

// early is the request that a child of the fork server read before its
// main package's initialisation (see forkedChild), if it did.
var early struct {
	read  bool
	req   *request
	param []byte
	err   error
}

// takeRequest returns the request read early, or else reads it from conn.
func takeRequest(conn io.Reader) (*request, []byte, error) {
	if early.read {
		return early.req, early.param, early.err
	}
	return readRequest(conn)
}

// setEnviron makes env the environment of a child that the fork server
// started, whose runtime started with the program's.
func setEnviron(env []string) {
	os.Clearenv()
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			os.Setenv(k, v)
		}
	}
}
