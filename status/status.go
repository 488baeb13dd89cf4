package status

import (
	"syscall"
	"unsafe"

	"github.com/gonsproject/gons/internal/cause"
)

// ErrUnknownVariable: a gons_* variable that the protocol does not
// define, most likely a typo.
var ErrUnknownVariable error = &cause.Error{Msg: "unknown variable"}

// ErrDuplicate: a variable set twice, or a type listed twice in
// gons_order.
var ErrDuplicate error = &cause.Error{Msg: "given more than once"}

// ErrSyntax: a malformed gons_order item.
var ErrSyntax error = &cause.Error{Msg: "syntax error"}

// ErrUnknownType: a namespace type name that does not exist.
var ErrUnknownType error = &cause.Error{Msg: "unknown namespace type"}

// ErrNotInOrder: a namespace variable is set but an explicit gons_order
// leaves its type out.
var ErrNotInOrder error = &cause.Error{Msg: "not listed in gons_order"}

// ErrWrongType: the namespace file is of another type than the
// variable names. It wraps syscall.EINVAL.
var ErrWrongType error = &cause.Error{Msg: "namespace of another type (invalid argument)", Wrap: syscall.EINVAL}

// ErrSecure: the program runs in secure-execution mode (setuid,
// setgid or file capabilities) and ignored the gons_* variables of its
// caller. It wraps syscall.EPERM.
var ErrSecure error = &cause.Error{Msg: "secure-execution mode (AT_SECURE) refuses gons_* variables (operation not permitted)", Wrap: syscall.EPERM}

// ErrConflict: variables that do not go together, such as gons_target
// next to gons_net.
var ErrConflict error = &cause.Error{Msg: "conflicting variables"}

// ErrReusedPID: the process gons_target names by PID:INODE is gone and
// its PID belongs to another process. It wraps syscall.EINVAL.
var ErrReusedPID error = &cause.Error{Msg: "not the process gons_target names (invalid argument)", Wrap: syscall.EINVAL}

// ErrNotRun: gons_* variables are set, but the constructor of package
// early did not run in this program.
var ErrNotRun error = &cause.Error{Msg: "the early constructor did not run"}

// Indexes into sentinels.
const (
	sUnknownVariable = iota
	sDuplicate
	sSyntax
	sUnknownType
	sNotInOrder
	sWrongType
	sSecure
	sConflict
	sReusedPID
	sNotRun
)

// sentinels are the Err* variables, the sentinel errors that [Error.Err]
// wraps, by index, so that the table of messages can name them. They are
// initialized statically, so that linking status costs no init code:
// hence pointers to the variables, which the linker fills in, rather than
// copies of them, which would take code at init. A sentinel that wraps an errno ends with the
// errno's message, in parentheses (TestSentinels).
var sentinels = [...]*error{
	sUnknownVariable: &ErrUnknownVariable,
	sDuplicate:       &ErrDuplicate,
	sSyntax:          &ErrSyntax,
	sUnknownType:     &ErrUnknownType,
	sNotInOrder:      &ErrNotInOrder,
	sWrongType:       &ErrWrongType,
	sSecure:          &ErrSecure,
	sConflict:        &ErrConflict,
	sReusedPID:       &ErrReusedPID,
	sNotRun:          &ErrNotRun,
}

// Error describes the step that failed at start-up. Nothing after it was
// switched; [Joined] lists what was switched before it.
type Error struct {
	Op   string // "parse", "secure", "target", "open", "check", "setns", "chroot", "chdir", "setgroups", "setgid", "setuid", "fork", "start", "exec" (package nsexec)
	Type string // namespace type, such as "mnt"; "" when the error concerns none
	Path string // the path from the environment; "" when none
	Err  error  // a syscall.Errno, ErrSecure, or a message that wraps an errno or one of the sentinels
}

// Error returns the error in the form
// gons: setns mnt "/proc/42/ns/mnt": operation not permitted.
func (e *Error) Error() string {
	if e == nil {
		return "gons: <nil>"
	}
	s := "gons: " + e.Op
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Path != "" {
		s += " " + quote(e.Path)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
		// The line of hints that the failure needs, if any; here rather
		// than in a method of its own, which would cost a program its pc
		// tables.
		err := e.Err
		if u, ok := err.(interface{ Unwrap() error }); ok { // a message around the errno
			err = u.Unwrap()
		}
		n, _ := err.(syscall.Errno)
		h := -1
		if n == syscall.EPERM && e.Op == "setns" {
			h = 0
			if e.Type == "user" {
				h = 1
			} else if e.Type == "mnt" {
				h = 2
			}
		} else if n == syscall.EACCES && e.Op == "open" && len(e.Path) > 6 && e.Path[:6] == "/proc/" {
			h = 3
		}
		if h >= 0 {
			s += " " + nth(hints, h)
		}
	}
	return s
}

// hints say what a step that failed for want of a privilege needs, one a
// line, for the message to say what to do; errors.Is still finds the
// errno. One string and an index keep status small.
const hints = "(needs CAP_SYS_ADMIN over the owning user namespace)\n" +
	"(needs CAP_SYS_ADMIN over that user namespace)\n" +
	"(needs CAP_SYS_ADMIN over the owning user namespace, and CAP_SYS_CHROOT)\n" +
	"(needs ptrace access to the process: its user, or CAP_SYS_PTRACE)"

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Ran reports whether the constructor of package early ran in this
// process. It is false when early is not linked in, was built without cgo
// or for another OS, or when the binary was linked internally
// (-ldflags=-linkmode=internal), which skips C constructors. A program
// that imports package reexec but not early links the constructor for
// its children only: there it is false too, and the program's own gons_*
// variables are left alone ([Err] says so, if any are set).
func Ran() bool {
	s, _ := current()
	return s == stateRan
}

// Joined returns the namespace types joined at start-up, in the order they
// were joined. The caller owns the returned slice.
func Joined() []string {
	var names []string
	if _, r := current(); r != nil {
		for _, t := range r.joined[:min(max(int(r.njoined), 0), len(r.joined))] {
			names = append(names, typeName(int(t)))
		}
	}
	return names
}

// Target reports the process whose namespaces gons_target named: its PID
// and the inode of its pidfd (0 before Linux 6.9, whose pidfs gives each
// process an inode of its own). ok is false when gons_target was not set.
func Target() (pid int, inode uint64, ok bool) {
	if _, r := current(); r != nil && r.targetPID != 0 {
		return int(r.targetPID), r.targetInode, true
	}
	return 0, 0, false
}

// Err returns nil when every namespace asked for was joined, or none was
// asked for, and an [*Error] otherwise. When gons_* variables are set but
// the constructor did not run, it says so and why.
func Err() error {
	state, r := current()
	if state != stateRan {
		// gons_* variables with no constructor to act on them.
		for _, kv := range syscall.Environ() {
			if len(kv) > 5 && kv[:5] == "gons_" {
				name := kv
				if n := index(kv, '='); n >= 0 {
					name = kv[:n]
				}
				return &Error{Op: "start", Err: &cause.Error{Msg: name + " is set but the early constructor did not run: " + nth(notRunWhy, state), Wrap: ErrNotRun}}
			}
		}
		return nil
	}
	return decodeRecord(unsafe.Pointer(r))
}

// decodeRecord returns the failure recorded in p, a struct gons_record
// that the C steps wrote in another process (package nsexec's child,
// before it executes its program), as [Err] returns the constructor's:
// nil when there is none. It is defined here and declared without a body
// where it is used, as record is, so that status exports nothing for it.
// Err decodes the constructor's record with it too: one function for both
// costs a program less than two.
//
//go:linkname decodeRecord
func decodeRecord(p unsafe.Pointer) error {
	r := (*cRecord)(p)

	if r.op == opNone {
		return nil
	}
	f := failure{
		op: int(r.op), typ: int(r.typ), errno: syscall.Errno(r.errno), code: int(r.code),
		index: int(r.index), other: int(r.oth), path: cstring(r.path[:]), detail: cstring(r.detail[:]),
		targetPID: int(r.targetPID), targetInode: r.targetInode, wantInode: r.wantInode,
	}
	op := nth(opNames, f.op)
	if op == "" {
		op = "unknown"
	}
	var err error
	if f.code == codeNone && f.op != opTarget {
		// A failed system call says all there is to say.
		if f.op == opSecure {
			err = ErrSecure
		} else if f.errno != 0 {
			err = f.errno
		}
	} else {
		k := f.code
		if k < 0 || k > numCodes {
			k = numCodes // a constructor newer than this package
		}
		var wrap error
		if s := wraps[k]; s != 0 {
			wrap = *sentinels[s-1]
		} else if f.errno != 0 {
			wrap = f.errno
		}
		// The template of the code: % and a letter stand for the
		// variable named by other (v), the item's index (i), the detail
		// quoted (q) or not (d), the type (t), the type named by other
		// (o), the target's PID (p), its inode (n), the inode gons_target
		// wanted (w), the errno (e), the code (c), and what a number
		// should have been (x).
		t, msg := nth(messages, k), ""
		for i := 0; i+1 < len(t); i++ {
			if t[i] != '%' {
				continue
			}
			var s string
			switch c := t[i+1]; c {
			case 'v':
				s = "gons_" + nth(varNames, f.other)
				if f.other == varReexecFD {
					s = "GONS_REEXEC_FD"
				}
			case 'q':
				s = quote(f.detail)
			case 'd':
				s = f.detail
			case 't', 'o':
				n := f.typ
				if c == 'o' {
					n = f.other
				}
				s = typeName(n)
			case 'i', 'p', 'c', 'n', 'w':
				// In decimal, here rather than in a function of its own,
				// which would cost a program its pc tables.
				u, neg := f.targetInode, false
				if c == 'w' {
					u = f.wantInode
				} else if c != 'n' {
					n := f.index
					if c == 'p' {
						n = f.targetPID
					} else if c == 'c' {
						n = f.code
					}
					u, neg = uint64(n), n < 0
					if neg {
						u = uint64(-n)
					}
				}
				var buf [21]byte
				j := len(buf)
				for {
					j--
					buf[j] = byte('0' + u%10)
					if u /= 10; u == 0 {
						break
					}
				}
				if neg {
					j--
					buf[j] = '-'
				}
				s = string(buf[j:])
			case 'e':
				s = f.errno.Error()
			case 'x':
				s = nth(numberNames, f.other-varTarget)
			}
			msg += t[:i] + s
			t, i = t[i+2:], -1
		}
		err = &cause.Error{Msg: msg + t, Wrap: wrap}
	}
	return &Error{Op: op, Type: typeName(f.typ), Path: f.path, Err: err}
}
