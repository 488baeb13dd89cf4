package status

import "syscall"

// Sentinel errors that [Error.Err] wraps, for use with [errors.Is]. They
// are initialized statically, so that linking status costs no init code.
var (
	// ErrUnknownVariable: a gons_* variable that the protocol does not
	// define, most likely a typo.
	ErrUnknownVariable error = &sentinel{msg: "unknown variable"}
	// ErrDuplicate: a variable set twice, or a type listed twice in
	// gons_order.
	ErrDuplicate error = &sentinel{msg: "given more than once"}
	// ErrSyntax: a malformed gons_order item.
	ErrSyntax error = &sentinel{msg: "syntax error"}
	// ErrUnknownType: a namespace type name that does not exist.
	ErrUnknownType error = &sentinel{msg: "unknown namespace type"}
	// ErrNotInOrder: a namespace variable is set but an explicit gons_order
	// leaves its type out.
	ErrNotInOrder error = &sentinel{msg: "not listed in gons_order"}
	// ErrWrongType: the namespace file is of another type than the
	// variable names. It wraps syscall.EINVAL.
	ErrWrongType error = &sentinel{msg: "namespace of another type", errno: syscall.EINVAL}
	// ErrSecure: the program runs in secure-execution mode (setuid,
	// setgid or file capabilities) and ignored the gons_* variables of its
	// caller. It wraps syscall.EPERM.
	ErrSecure error = &sentinel{msg: "secure-execution mode (AT_SECURE) refuses gons_* variables", errno: syscall.EPERM}
	// ErrConflict: variables that do not go together, such as gons_target
	// next to gons_net.
	ErrConflict error = &sentinel{msg: "conflicting variables"}
	// ErrReusedPID: the process gons_target names by PID:INODE is gone and
	// its PID belongs to another process. It wraps syscall.EINVAL.
	ErrReusedPID error = &sentinel{msg: "not the process gons_target names", errno: syscall.EINVAL}
	// ErrNotRun: gons_* variables are set, but the constructor of package
	// early did not run in this program.
	ErrNotRun error = &sentinel{msg: "the early constructor did not run"}
)

// sentinel is an error of this package, which may wrap an errno.
type sentinel struct {
	msg   string
	errno syscall.Errno
}

func (e *sentinel) Error() string {
	if e.errno != 0 {
		return e.msg + " (" + e.errno.Error() + ")"
	}
	return e.msg
}

func (e *sentinel) Unwrap() error {
	if e.errno != 0 {
		return e.errno
	}
	return nil
}

// Error describes the step that failed at start-up. Nothing after it was
// switched; [Joined] lists what was switched before it.
type Error struct {
	Op   string // "parse", "secure", "target", "open", "check", "setns", "chroot", "chdir", "setgroups", "setgid", "setuid", "fork", "start"
	Type string // namespace type, such as "mnt"; "" when the error concerns none
	Path string // the path from the environment; "" when none
	Err  error  // a syscall.Errno, or an error wrapping one of the sentinels
}

// Error returns the error in the form
// gons: setns mnt "/proc/42/ns/mnt": operation not permitted.
func (e *Error) Error() string {
	s := "gons: " + e.Op
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Path != "" {
		s += " " + quote(e.Path)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Ran reports whether the constructor of package early ran in this
// process. It is false when early is not linked in, was built without cgo
// or for another OS, or when the binary was linked internally
// (-ldflags=-linkmode=internal), which skips C constructors.
func Ran() bool { return state == stateRan }

// Joined returns the namespace types joined at start-up, in the order they
// were joined. The caller owns the returned slice.
func Joined() []string {
	var names []string
	for _, t := range load().joined {
		names = append(names, typeName(t))
	}
	return names
}

// Target reports the process whose namespaces gons_target named: its PID
// and the inode of its pidfd (0 before Linux 6.9, whose pidfs gives each
// process an inode of its own). ok is false when gons_target was not set.
func Target() (pid int, inode uint64, ok bool) {
	o := load()
	return o.targetPID, o.targetInode, o.targetPID != 0
}

// Err returns nil when every namespace asked for was joined, or none was
// asked for, and an [*Error] otherwise. When gons_* variables are set but
// the constructor did not run, it says so and why.
func Err() error {
	if state != stateRan {
		return notRun()
	}
	if o := load(); o.op != opNone {
		return o.err()
	}
	return nil
}

// detailError is an error with a message of its own that wraps a sentinel
// or an errno.
type detailError struct {
	msg string
	err error
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.err }
