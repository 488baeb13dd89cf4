package reexec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/gonsproject/gons/nsthread"
	"github.com/gonsproject/gons/status"
)

// InProcess makes [Func.Run] run the action in this process, on a thread
// of its own that joins the namespaces and leaves them afterwards (package
// [github.com/gonsproject/gons/nsthread]), instead of in a child, when
// that gives the same answer: when every namespace asked for is of a type
// a thread can join (cgroup, ipc, mnt, net, uts; with [Target], the types
// must be listed), no path is opened after a mount namespace switch
// (a type without "!" listed after mnt in [Namespaces], which a child
// would resolve inside the new mount namespace), and no option besides
// [Dir] asks for something only a process of its own has ([Root],
// [Environment], [Stdout], [Stderr], credentials, and the like).
// Otherwise, and for actions registered with [Register], the action runs
// in a child as it would without the option. A call costs microseconds
// instead of a process start (one that joins a mount namespace, or sets
// [Dir], costs a thread's creation too, as its thread is discarded
// afterwards), and needs no cgo: built with CGO_ENABLED=0, where a child
// cannot switch, an action run in-process still joins these namespaces.
//
// The thread skips the namespaces the process is in already, as a child
// does, and a target without namespaces (a zombie, a kernel thread) is the
// same error (ESRCH); with a mount namespace it starts at the namespace's
// root, or in [Dir], as a child does. The parameter and the result still
// travel as JSON, decoded strictly, so that the action sees and returns
// what it would in a child, and a failure is the same [*Error] with the
// same Op: "switch" wraps a [*status.Error], an action's error is kept as
// it is, "panic" wraps [ErrPanic] with the stack in [Error.Stderr]. What
// differs is what a process of its own would hide (package nsthread's
// documentation has the table): the action shares the caller's memory,
// standard streams and other threads; goroutines it starts run in the
// caller's namespaces, working directory and root; /proc/self is the
// caller's process (its main thread), not the action's; an action that
// calls os.Exit ends the caller. The context is checked before the call,
// which then runs to its end. A thread that could not be switched back,
// or that ran an action which panicked, is never reused
// ([nsthread.ErrThreadDiscarded]; package nsthread says which goroutine
// stays on it).
func InProcess() Option {
	return optionFunc(func(o *options) error {
		o.inProcess = true
		return nil
	})
}

// inProcess runs a typed action through package nsthread when o allows it,
// and says whether it did.
func inProcess(ctx context.Context, name string, o *options) (bool, error) {
	a := lookup(name)
	if !o.inProcess || a == nil || a.run == nil {
		return false, nil
	}
	nsOpts, ok := threadOption(o)
	if !ok {
		return false, nil
	}
	fail := func(op string, err error) error { return &Error{Action: name, Op: op, Err: err} }
	if err := ctx.Err(); err != nil {
		return true, fail("context", err)
	}
	param, err := encodeValue(o.pc, o.param)
	if err != nil {
		return true, fail("param", err)
	}
	var actionErr error
	result, err := nsthread.Run(func() ([]byte, error) {
		r, err := a.run(param)
		actionErr = err
		return r, err
	}, nsOpts...)
	var w *wireErr
	var ne *nsthread.Error
	var pe *nsthread.PanicError
	switch {
	case err == nil:
	case err == actionErr && errors.As(err, &w):
		return true, fail(w.kind, w.err)
	case err == actionErr:
		return true, fail(kindAction, err)
	case errors.As(err, &pe):
		e := fail(kindPanic, fmt.Errorf("%w: %v (%w)", ErrPanic, pe.Value, nsthread.ErrThreadDiscarded)).(*Error)
		// What a child prints to its standard error, and keeps the
		// end of.
		e.Stderr = fmt.Sprintf("panic: %v\n\n%s", pe.Value, pe.Stack)
		e.Stderr = e.Stderr[max(0, len(e.Stderr)-StderrMax):]
		return true, e
	case errors.As(err, &ne) && errors.Is(err, nsthread.ErrNoNamespaces):
		// A child opens the pidfd and finds nothing to join when it
		// switches, as early reports it.
		return true, fail(kindSwitch, &status.Error{Op: "target", Path: ne.Path, Err: ne.Err})
	case errors.As(err, &ne) && ne.Op == "target":
		// As openTarget says it for a child.
		return true, fail("target", fmt.Errorf("Target: process %d: %w", o.target, os.NewSyscallError("pidfd_open", ne.Err)))
	case errors.As(err, &ne):
		cause := ne.Err
		if ne.Discarded {
			cause = fmt.Errorf("%w (%w)", cause, nsthread.ErrThreadDiscarded)
		}
		return true, fail(kindSwitch, &status.Error{Op: ne.Op, Type: ne.Type, Path: ne.Path, Err: cause})
	default:
		return true, fail(kindSwitch, err)
	}
	if err := decodeResult(name, o, result); err != nil {
		return true, fail(kindResult, fmt.Errorf("malformed: %w", err))
	}
	return true, nil
}

// threadOption returns the nsthread options that join what o asks for,
// and whether a thread can do all that o asks.
func threadOption(o *options) ([]nsthread.Option, bool) {
	// Any option besides these, including ones added later, needs a
	// child: compare with what no option at all gives.
	rest, none := *o, options{}
	if base, err := collect("", nil); err == nil {
		none = *base
	}
	rest.namespaces, rest.target, rest.targetNS, rest.dir = nil, 0, nil, ""
	rest.param, rest.paramSet, rest.result, rest.inProcess = nil, false, nil, false
	rest.pc, rest.rc = nil, nil
	if !reflect.DeepEqual(rest, none) {
		return nil, false
	}
	opts := make([]nsthread.Option, 1, 2)
	if o.dir != "" {
		opts = append(opts, nsthread.Dir(o.dir))
	}
	if o.target != 0 {
		if len(o.targetNS) == 0 {
			return nil, false // all types: user and the others
		}
		for _, typ := range o.targetNS {
			if !nsthread.ThreadJoinable(typ) {
				return nil, false
			}
		}
		opts[0] = nsthread.Target(o.target, o.targetNS...)
		return opts, true
	}
	ns := make([]nsthread.Namespace, 0, len(o.namespaces))
	mnt := false
	for _, n := range o.namespaces {
		if !nsthread.ThreadJoinable(n.Type) {
			return nil, false
		}
		if mnt && !strings.HasPrefix(n.Type, "!") {
			// A child opens this path inside the mount namespace it
			// joined; the thread opens every path before.
			return nil, false
		}
		mnt = mnt || strings.TrimPrefix(n.Type, "!") == "mnt"
		ns = append(ns, nsthread.Namespace(n))
	}
	opts[0] = nsthread.Namespaces(ns)
	return opts, true
}
