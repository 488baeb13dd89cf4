package nsthread

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gonsproject/gons/status"
)

// Namespace names a namespace for the thread to join. Its fields are those
// of reexec.Namespace, so that one converts to the other:
// nsthread.Namespace(n).
type Namespace struct {
	// Type is one of cgroup, ipc, mnt, net, uts: the types a thread of
	// a multi-threaded process can join. A "!" in front of it, which
	// reexec uses to open a path before a mount namespace switch, is
	// accepted and changes nothing: every path is opened, and checked,
	// in the caller's mount namespace before the first switch.
	Type string
	// Path is a namespace file, such as /proc/42/ns/net, or a bind mount
	// of one.
	Path string
}

// Types are the namespace types a thread can join and go back from,
// those [Target] joins by default. A thread can join a mount namespace
// too ("mnt"), but never go back: [Target] joins it only when named.
var Types = []string{"cgroup", "ipc", "net", "uts"}

// defaultTypes are those of Types, which a caller may change.
var defaultTypes = []string{"cgroup", "ipc", "net", "uts"}

// ThreadJoinable reports whether a single thread of a multi-threaded
// process can join a namespace of type typ (with or without a leading
// "!"): true for cgroup, ipc, mnt, net and uts; false for user, time
// and pid, which need a process of its own.
func ThreadJoinable(typ string) bool {
	return joinable(trimBang(typ))
}

func joinable(typ string) bool {
	switch typ {
	case "cgroup", "ipc", "mnt", "net", "uts":
		return true
	}
	return false
}

// Sentinel errors that an [*Error] may wrap, for use with [errors.Is].
// Unknown, duplicate and mistyped namespaces wrap the sentinels of package
// status ([status.ErrUnknownType], [status.ErrDuplicate],
// [status.ErrWrongType], [status.ErrConflict]), as a run of package reexec
// would.
var (
	// ErrNotThreadJoinable: a namespace of type user or time, which the
	// kernel lets only a single-threaded process join, or pid, which
	// applies to children only. Package reexec runs a function in a
	// child that joins them before its Go runtime starts.
	ErrNotThreadJoinable = errors.New("a thread of a multi-threaded process cannot join this namespace type; run the function through package reexec")
	// ErrThreadLost: the function let go of its thread (it called
	// runtime.UnlockOSThread more often than runtime.LockOSThread, more
	// than 16 times over) and ended on another one. The thread it left
	// went back to the Go runtime in the namespaces the call joined, and
	// ordinary goroutines may run there until it ends; the thread the
	// function ended on was switched back, or discarded. The error is an
	// [*Error] with Op "lost" that names the thread.
	ErrThreadLost = errors.New("the function let go of its thread, which went back to the Go runtime inside the namespaces")
	// ErrThreadDiscarded: the function ran, or was about to, but the
	// thread could not be put back into its namespaces, or the function
	// panicked, so the thread was not returned to the Go runtime: the
	// goroutine that ran the function stays locked to it, and the runtime
	// ends it with that goroutine. When that goroutine is the caller's,
	// the caller goes on on that thread until it ends (see the package
	// documentation). The error reports what failed.
	ErrThreadDiscarded = errors.New("the thread was discarded")
	// ErrNoNamespaces: the target process has no namespaces of its own
	// to join: it exited and was not reaped yet (a zombie), or it is a
	// kernel thread. The error is an [*Error] with Op "target"; it wraps
	// ESRCH too, as a child's switch reports it.
	ErrNoNamespaces = errors.New("the process has no namespaces: it exited, or is a kernel thread")
	// ErrPanic: the function panicked. The error is a [*PanicError].
	ErrPanic = errors.New("function panicked")
)

// Error is the error of a call that did not run cleanly.
type Error struct {
	// Op is the step that failed:
	//	parse    the options are wrong (unknown or duplicate type, user, time or pid)
	//	target   the process to join by PID could not be opened (pidfd_open),
	//	         or has no namespaces (ESRCH: it exited, or is a kernel thread)
	//	open     a namespace file could not be opened
	//	check    the file is not a namespace of the type asked for (NS_GET_NSTYPE)
	//	unshare  the thread could not get a filesystem context of its own (mnt, Dir)
	//	setns    joining failed; the namespaces joined before were left again
	//	chdir    the directory of [Dir] could not be entered
	//	restore  switching back failed; the thread was discarded
	//	panic    the function panicked, or called runtime.Goexit; the thread was discarded
	//	lost     the function let go of its thread ([ErrThreadLost])
	Op string
	// Type is the namespace type; "" when the error concerns none.
	Type string
	// Path is the namespace file, or "pid N" or "pidfd N" for a process
	// joined by PID or by a pidfd; "" when none.
	Path string
	// Err is the cause: a syscall.Errno for system-call failures.
	Err error
	// Discarded is whether the thread was kept from the runtime instead
	// of being returned to it: it ends with the goroutine that ran the
	// function. errors.Is(err, ErrThreadDiscarded) reports it too.
	Discarded bool
}

// Error returns the error in the form
// nsthread: setns net "/proc/42/ns/net": operation not permitted.
func (e *Error) Error() string {
	s := "nsthread: " + e.Op
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Path != "" {
		s += " " + strconv.Quote(e.Path)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Discarded {
		s += " (" + ErrThreadDiscarded.Error() + ")"
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is ErrThreadDiscarded and the thread was.
func (e *Error) Is(target error) bool {
	return target == ErrThreadDiscarded && e.Discarded
}

// privilegeError says what a setns that failed with EPERM (or EACCES)
// lacked: CAP_SYS_ADMIN over the user namespace that owns each namespace
// of types, and in the caller's own (CAP_SYS_CHROOT too for mnt); when
// the namespaces belong to another user namespace, a child that joins it
// first may have that privilege where no thread can.
func privilegeError(err error, types []string, otherUser bool) error {
	msg := "joining " + strings.Join(types, ", ") + " needs CAP_SYS_ADMIN over the user namespace that owns the namespace and over the caller's"
	if slices.Contains(types, "mnt") {
		msg += ", and CAP_SYS_CHROOT"
	}
	if otherUser {
		msg += "; the namespace belongs to another user namespace, which only a child can join first: run the function through package reexec, joining user as well"
	}
	return fmt.Errorf("%w (%s)", err, msg)
}

// PanicError is the cause of an [*Error] with Op "panic".
type PanicError struct {
	// Value is what the function passed to panic; nil when it called
	// runtime.Goexit.
	Value any
	// Goexit is whether the function called runtime.Goexit (as
	// testing.T.FailNow does) rather than panic.
	Goexit bool
	// Stack is the stack of the function's goroutine at the panic.
	Stack []byte
}

// Error returns the panic value as text, or says that the function called
// runtime.Goexit.
func (e *PanicError) Error() string {
	if e.Goexit {
		return "function called runtime.Goexit"
	}
	return fmt.Sprint(e.Value)
}

// Is reports whether target is ErrPanic.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Option says which namespaces to join, or where the function starts:
// [Namespaces], [Target], [TargetPidfd] and [Dir] make them. A nil
// Option is ignored.
type Option interface {
	apply(*config) error
}

// optionFunc is an Option made of a function.
type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// config is what the options say.
type config struct {
	ns     []Namespace
	pid    int // process to join by PID; 0: none
	pidfd  int // the caller's pidfd; -1: none
	pidTyp []string
	pidAll bool   // Target named no types: leave out those the kernel lacks
	dir    string // Dir; "": none
}

func collect(opts []Option) (*config, error) {
	c := &config{pidfd: -1}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(c); err != nil {
			return nil, err
		}
	}
	if len(c.ns) > 0 && (c.pid != 0 || c.pidfd >= 0) {
		return nil, &Error{Op: "parse", Err: fmt.Errorf("Namespaces and a target both say which namespaces to join: %w", status.ErrConflict)}
	}
	return c, nil
}

// Namespaces makes the thread join the namespaces, in the order given,
// and leave them in the reverse order. Each path is opened and its type
// checked before the first switch. A namespace the process is in already
// is skipped when joining it fails (an unprivileged caller may not join
// even its own), as in a child of package reexec. Types other than
// cgroup, ipc, mnt, net and uts are refused with [ErrNotThreadJoinable].
// A mount namespace makes the call run on a thread of its own, which is
// discarded afterwards (see the package documentation).
func Namespaces(ns []Namespace) Option {
	// Checked and copied once, here, not on every call.
	list := make([]Namespace, 0, len(ns))
	var seen uint8
	var err error
	for _, n := range ns {
		typ := trimBang(n.Type)
		if err = checkType(typ, n.Type, &seen); err != nil {
			break
		}
		if n.Path == "" {
			err = &Error{Op: "parse", Type: typ, Err: fmt.Errorf("empty path: %w", status.ErrSyntax)}
			break
		}
		list = append(list, Namespace{Type: typ, Path: n.Path})
	}
	return optionFunc(func(c *config) error {
		if err != nil {
			return err
		}
		c.ns = append(c.ns[:len(c.ns):len(c.ns)], list...)
		return nil
	})
}

// Target makes the thread join the namespaces of process pid of the given
// types (a "!" in front is accepted, as in [Namespace]), or, with none
// given, of the four types of [Types] (those the kernel has, by
// /proc/self/ns); a mount namespace is joined only when "mnt" is named.
// Types the process is in already are skipped, as in a child of package
// reexec, and a process that has no namespaces any more (it exited and
// was not reaped yet) or never had its own (a kernel thread) is an error
// that wraps syscall.ESRCH. The
// process is opened as a pidfd when the call starts ([pidfd_open(2)],
// Linux 5.3) and joined through it, all types at once ([setns(2)] with a
// pidfd, Linux 5.8), so a process that ends meanwhile is never half
// joined, and another process that gets its PID is never joined. A PID
// that was reused before the call began cannot be told apart: a caller
// who learned the PID earlier holds a pidfd from then and uses
// [TargetPidfd].
//
// [pidfd_open(2)]: https://man7.org/linux/man-pages/man2/pidfd_open.2.html
// [setns(2)]: https://man7.org/linux/man-pages/man2/setns.2.html
func Target(pid int, types ...string) Option {
	list, err := targetTypes(types)
	if err == nil && pid <= 0 {
		err = &Error{Op: "parse", Path: "pid " + strconv.Itoa(pid), Err: errors.New("not a process ID")}
	}
	return optionFunc(func(c *config) error {
		if err != nil {
			return err
		}
		return c.target(pid, -1, list)
	})
}

// TargetPidfd is [Target] for a process the caller holds a pidfd of: the
// process the pidfd refers to, or, if it has ended, an error that wraps
// syscall.ESRCH, whoever has its PID now. The pidfd stays open.
func TargetPidfd(pidfd int, types ...string) Option {
	list, err := targetTypes(types)
	if err == nil && pidfd < 0 {
		err = &Error{Op: "parse", Path: "pidfd " + strconv.Itoa(pidfd), Err: errors.New("not a descriptor")}
	}
	return optionFunc(func(c *config) error {
		if err != nil {
			return err
		}
		return c.target(0, pidfd, list)
	})
}

// targetTypes checks the types given to Target, and returns them without
// "!", or all four for none.
func targetTypes(types []string) ([]string, error) {
	if len(types) == 0 {
		return nil, nil // Types, those the kernel has: see config.target
	}
	var seen uint8
	list := make([]string, 0, len(types))
	for _, given := range types {
		typ := trimBang(given)
		if err := checkType(typ, given, &seen); err != nil {
			return nil, err
		}
		list = append(list, typ)
	}
	return list, nil
}

func (c *config) target(pid, pidfd int, types []string) error {
	if c.pid != 0 || c.pidfd >= 0 {
		return &Error{Op: "parse", Err: fmt.Errorf("more than one target: %w", status.ErrConflict)}
	}
	c.pid, c.pidfd, c.pidTyp, c.pidAll = pid, pidfd, types, types == nil
	if types == nil {
		c.pidTyp = defaultTypes
	}
	return nil
}

// Dir makes the function start in directory dir, resolved after the
// switches (inside the mount namespace the call joins, if any; relative
// to the namespace's root, or the process's working directory without
// one). The thread gets a filesystem context of its own for that
// ([unshare(2)] CLONE_FS), so the call runs on a thread of its own that
// is discarded afterwards, as with a mount namespace; the process's
// working directory never changes. Without Dir, a call that joins a
// mount namespace starts at the namespace's root, as a child of package
// reexec does.
//
// [unshare(2)]: https://man7.org/linux/man-pages/man2/unshare.2.html
func Dir(dir string) Option {
	return optionFunc(func(c *config) error {
		if dir == "" {
			return &Error{Op: "parse", Err: fmt.Errorf("empty directory: %w", status.ErrSyntax)}
		}
		c.dir = dir
		return nil
	})
}

// checkType refuses a type that is unknown, seen before, or not
// thread-joinable. given is the type as the caller wrote it.
func checkType(typ, given string, seen *uint8) error {
	if !joinable(typ) {
		switch typ {
		case "user", "time", "pid":
			return &Error{Op: "parse", Type: typ, Err: ErrNotThreadJoinable}
		}
		return &Error{Op: "parse", Err: fmt.Errorf("%q: %w", given, status.ErrUnknownType)}
	}
	bit := uint8(1) << typeIndex(typ)
	if *seen&bit != 0 {
		return &Error{Op: "parse", Type: typ, Err: fmt.Errorf("%s listed more than once: %w", typ, status.ErrDuplicate)}
	}
	*seen |= bit
	return nil
}

// typeIndex numbers the thread-joinable types from 0 to 4.
func typeIndex(typ string) int {
	switch typ {
	case "cgroup":
		return 0
	case "ipc":
		return 1
	case "net":
		return 2
	case "mnt":
		return 4
	}
	return 3 // uts
}

func trimBang(typ string) string {
	if len(typ) > 0 && typ[0] == '!' {
		return typ[1:]
	}
	return typ
}

// Run runs fn on a locked OS thread that has joined the namespaces the
// options name, switches the thread back into the process's namespaces
// afterwards, and returns fn's
// result and error. A failure to switch in or back comes as an [*Error];
// fn's own error as it is (joined with an *Error when the thread could not
// be switched back, in which case the result is still fn's).
//
// fn runs on the caller's goroutine when it is free to move between
// threads, and on a fresh goroutine when the caller is locked to its
// thread ([runtime.LockOSThread]), which then keeps that thread as it was;
// see the package documentation for what happens to the thread after a
// panic or a failed switch back. Goroutines that fn starts run on other
// threads, in the namespaces of the process, not in those fn runs in.
func Run[R any](fn func() (R, error), opts ...Option) (R, error) {
	var r R
	c, err := collect(opts)
	if err != nil {
		return r, err
	}
	err = c.run(func() error {
		var ferr error
		r, ferr = fn()
		return ferr
	})
	return r, err
}

// Do is [Run] for a function without a result.
func Do(fn func() error, opts ...Option) error {
	c, err := collect(opts)
	if err != nil {
		return err
	}
	return c.run(fn)
}
