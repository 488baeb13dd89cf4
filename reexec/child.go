package reexec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/gonsproject/gons/internal/handoff"
	"github.com/gonsproject/gons/status"
)

// isChild is whether this process was started by RunReexecAction, as
// seen before CheckAction removes the variables; checked is whether
// CheckAction has run.
var (
	isChild = os.Getenv(envAction) != ""
	checked atomic.Bool
)

// The parameter of the running plain action, for DecodeParam.
var (
	childParam    []byte
	childHasParam bool
	childRunning  bool
)

// ErrNoParam is returned by [DecodeParam] when the parent gave no
// [Param].
var ErrNoParam = errors.New("reexec: no parameter was given")

// CheckAction must be called first thing in main, or in TestMain of a
// test binary that runs actions. In a child started by [RunReexecAction]
// it runs the requested action and exits the process through [os.Exit]
// (so deferred exit hooks, such as those writing coverage data, run). In
// any other process it returns at once.
func CheckAction() {
	checked.Store(true)
	name := os.Getenv(envAction)
	if name == "" {
		return
	}
	os.Exit(runChild(name))
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

// runChild runs the action in the child and returns the exit status.
func runChild(name string) int {
	// Package early's constructor takes the variable out of the
	// environment and hands its value over; without it, it is still there.
	fd, ok := handoff.ReexecFD()
	fdEnv := os.Getenv(envFD)
	os.Unsetenv(envAction)
	os.Unsetenv(envFD)
	var err error
	if ok {
		fdEnv = strconv.Itoa(fd)
	} else {
		fd, err = strconv.Atoi(fdEnv)
	}
	if err == nil && fd < 0 {
		err = syscall.EBADF
	}
	if err == nil {
		err = checkSocket(fd)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "reexec: %s=%s: %s=%q is not the protocol socket: %v\n", envAction, name, envFD, fdEnv, err)
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

	if err := status.Err(); err != nil {
		return fail(kindSwitch, err)
	}
	tag, param, err := readFrame(conn)
	if err != nil || (tag != tagParam && tag != tagNoParam) {
		if err == nil {
			err = fmt.Errorf("unexpected frame %q", tag)
		}
		return fail(kindParam, fmt.Errorf("receiving the parameter: %w", err))
	}
	if tag == tagNoParam {
		param = nil
	}

	a := lookup(name)
	if a == nil {
		return fail(kindUnknown, fmt.Errorf("%w %q", ErrUnknownAction, name))
	}
	result, err := call(a, param)
	if err != nil {
		var w *wireErr
		if errors.As(err, &w) {
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

// call runs the action, turning a panic into an error and printing the
// panic's stack to standard error.
func call(a *entry, param []byte) (result []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "panic: %v\n\n%s", r, debug.Stack())
			err = &wireErr{kind: kindPanic, err: fmt.Errorf("%v", r)}
		}
	}()
	if a.plain != nil {
		childParam, childHasParam, childRunning = param, param != nil, true
		a.plain()
		return nil, nil
	}
	return a.run(param)
}
