package status

import (
	"syscall"
	"unsafe"

	"github.com/gonsproject/gons/internal/handoff"
)

// The values below mirror the C enums in early/gons.h; TestRecordCodes
// keeps both in step.

// States of the record.
const (
	stateUnset   = iota // early's Go init never called record: early is not linked in
	stateRan            // the constructor ran
	stateNoCtor         // early is linked, but its constructor did not run (internal linking)
	stateNoCgo          // early was built with CGO_ENABLED=0
	stateNoLinux        // early was built for another OS
)

// Ops of a failure, indexes into opNames.
const (
	opNone = iota
	opParse
	opSecure
	opOpen
	opCheck
	opSetns
	opFork
	opTarget
	opChroot
	opChdir
	opSetgroups
	opSetgid
	opSetuid
)

var opNames = [...]string{"", "parse", "secure", "open", "check", "setns", "fork",
	"target", "chroot", "chdir", "setgroups", "setgid", "setuid"}

// Parse failure codes.
const (
	codeNone          = iota
	codeUnknownVar    // detail: the variable's name
	codeDuplicateVar  // detail: the variable's name
	codeEmptyItem     // other: the list variable; index: the item's position
	codeBangAlone     // other: the list variable; index: the item's position
	codeUnknownType   // other: the list variable; detail: the item
	codeDuplicateType // other: the list variable; type
	codeNotInOrder    // type
	codePathTooLong   // other: the variable; path (cut short), errno ENAMETOOLONG
	codeWrongType     // type, path, other: the type the file really is
	codeNotNamespace  // type, path, errno from NS_GET_NSTYPE
	codeBadNumber     // other: the variable; detail: its value
	codeConflict      // other: the variable set next to gons_target
	codeNoTarget      // gons_target_ns without gons_target
	codeReusedPID     // targetPid, wantInode, targetInode; errno EINVAL
	codeNotPidfd      // index: gons_target_fd's descriptor; targetPid; errno
	codeNoPidfs       // targetPid, wantInode; errno EOPNOTSUPP
	codeTargetSetns   // targetPid; detail: the types; errno
	numCodes
)

// typeNames are the namespace types in the index order of the C code.
var typeNames = [...]string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}

// varNames are the variables after the types, in the order of enum gons_var;
// the last is GONS_REEXEC_FD, which package reexec sets.
var varNames = [...]string{"order", "target", "target_ns", "uid", "gid", "wd", "root", "target_fd", "errors", "reexec_fd"}

const varReexecFD = len(typeNames) + len(varNames) - 1

// varName returns the name of variable v, with its prefix.
func varName(v int) string {
	if v == varReexecFD {
		return "GONS_REEXEC_FD"
	}
	if v >= len(typeNames) && v-len(typeNames) < len(varNames) {
		return "gons_" + varNames[v-len(typeNames)]
	}
	return "gons_" + typeName(v)
}

func typeName(t int) string {
	if t < 0 || t >= len(typeNames) {
		return ""
	}
	return typeNames[t]
}

// cRecord mirrors struct gons_record of early/gons.h, which early hands
// over as it is. TestRecordLayout and a compile-time check in early keep the
// two layouts in step.
type cRecord struct {
	ran, njoined                     int32
	joined                           [8]int32
	op, typ, errno, code, index, oth int32
	targetPID, reexecFD              int32 // reexecFD: GONS_REEXEC_FD's N + 1, or 0
	targetInode, wantInode           uint64
	path                             [4096]byte
	detail                           [256]byte
}

var (
	state int      // one of the states above
	crec  *cRecord // the constructor's record, in C memory; nil unless it ran
)

// record receives the constructor's record from package early, once, in
// early's Go init. It is defined here and declared without a body in early
// (the "push" form of go:linkname), so that status needs no cgo and exports
// no setter, and a program that imports only status still links. It only
// keeps the pointer: decoding waits until the program asks.
//
//go:linkname record
func record(s int, r unsafe.Pointer) {
	state, crec = s, (*cRecord)(r)
	if crec != nil && crec.reexecFD > 0 {
		handoff.SetReexecFD(int(crec.reexecFD) - 1)
	}
}

// outcome is a failure the constructor recorded, decoded, or one of the
// sentinels. It is the error under [Error.Err] that says what was wrong:
// its message is built from a template only when Error is called, so that
// a program pays for formatting only when it prints one.
type outcome struct {
	_      [0]func() // not comparable: spares the equality function
	op     int
	typ    int // index into typeNames, -1 for none
	errno  syscall.Errno
	code   int
	index  int
	other  int
	path   string
	detail string

	targetPID              int
	targetInode, wantInode uint64
}

// err turns a recorded failure into an *Error.
func (o *outcome) err() *Error {
	e := &Error{Op: "unknown", Type: typeName(o.typ), Path: o.path, Err: o}
	if o.op > 0 && o.op < len(opNames) {
		e.Op = opNames[o.op]
	}
	if o.code == codeNone && o.op != opTarget {
		// A failed system call says all there is to say.
		e.Err = nil
		if o.op == opSecure {
			e.Err = ErrSecure
		} else if o.errno != 0 {
			e.Err = o.errno
		}
	}
	return e
}

// Codes of outcomes that the constructor does not record; they follow
// those of the C enum. The detail of a sentinel is its message.
const (
	codeNotRun        = numCodes + 1 + iota // detail: the variable; other: the state
	codeSentinel                            // a sentinel
	codeSentinelErrno                       // a sentinel that wraps its errno
)

// messages are the templates of outcome.Error, by code; see there what %
// and a letter stand for.
var messages = [...]string{
	codeNone:          "process %p: %e", // the target: its pidfd could not be had
	codeUnknownVar:    "unknown variable %q",
	codeDuplicateVar:  "%d set more than once",
	codeEmptyItem:     "%v: item %i is empty",
	codeBangAlone:     `%v: item %i is "!" without a type`,
	codeUnknownType:   "%v: unknown namespace type %q",
	codeDuplicateType: "%v: %t listed more than once",
	codeNotInOrder:    "gons_%t is set but gons_order leaves %t out",
	codePathTooLong:   "%v is longer than PATH_MAX",
	codeWrongType:     "a %o namespace, not %t",
	codeNotNamespace:  "not a namespace file (%e)",
	codeBadNumber:     "%v: %q is not %x",
	codeConflict:      "%v and gons_target both say which namespaces to join",
	codeNoTarget:      "%v is set without gons_target",
	codeReusedPID:     "process %p has pidfd inode %n, not %w",
	codeNotPidfd:      "gons_target_fd: %i is not a pidfd of process %p (%e)",
	codeNoPidfs:       "gons_target %p:%w: no inode names a process before pidfs (Linux 6.9)",
	codeTargetSetns:   "process %p, %d: %e",
	numCodes:          "failure code %c",
	codeNotRun:        "%d is set but the early constructor did not run: %r",
	codeSentinel:      "%d",
	codeSentinelErrno: "%d (%e)",
}

// wraps are the sentinels that the outcomes of each code wrap, as indexes
// into sentinels plus one; 0: the errno, if any.
var wraps = [len(messages)]uint8{
	codeUnknownVar:    1 + sUnknownVariable,
	codeDuplicateVar:  1 + sDuplicate,
	codeEmptyItem:     1 + sSyntax,
	codeBangAlone:     1 + sSyntax,
	codeUnknownType:   1 + sUnknownType,
	codeDuplicateType: 1 + sDuplicate,
	codeNotInOrder:    1 + sNotInOrder,
	codeWrongType:     1 + sWrongType,
	codeBadNumber:     1 + sSyntax,
	codeConflict:      1 + sConflict,
	codeNoTarget:      1 + sConflict,
	codeReusedPID:     1 + sReusedPID,
	codeNotRun:        1 + sNotRun,
}

// notRunWhy says why the constructor did not run, by state.
var notRunWhy = [...]string{
	stateUnset:   "package early is not linked into this program",
	stateNoCtor:  "the program was linked internally (-linkmode=internal), which skips C constructors",
	stateNoCgo:   "package early was built without cgo (CGO_ENABLED=0)",
	stateNoLinux: "package early works on Linux only",
}

// kind returns o's code, or numCodes for a code this package does not
// know (a constructor newer than this package). The codes after numCodes
// are this package's own: a recorded failure, which has an op, never has
// them.
func (o *outcome) kind() int {
	if o.code < 0 || o.code >= len(messages) || messages[o.code] == "" || o.code > numCodes && o.op != opNone {
		return numCodes
	}
	return o.code
}

// Error fills in the template of o's code. In a template, % and a letter
// stand for the variable named by other (v), the item's index (i), the
// detail quoted (q) or not (d), the type (t), the type named by other (o),
// the target's PID (p), its inode (n), the inode gons_target wanted (w),
// the errno (e), the code (c), what a number should have been (x), and why
// the constructor did not run (r).
func (o *outcome) Error() string {
	t, msg := messages[o.kind()], ""
	for i := 0; i+1 < len(t); i++ {
		if t[i] != '%' {
			continue
		}
		var s string
		switch t[i+1] {
		case 'v':
			s = varName(o.other)
		case 'i':
			s = itoa(o.index)
		case 'q':
			s = quote(o.detail)
		case 'd':
			s = o.detail
		case 't', 'o':
			n := o.typ
			if t[i+1] == 'o' {
				n = o.other
			}
			s = typeName(n)
		case 'p':
			s = itoa(o.targetPID)
		case 'n':
			s = utoa(o.targetInode)
		case 'w':
			s = utoa(o.wantInode)
		case 'e':
			s = o.errno.Error()
		case 'c':
			s = itoa(o.code)
		case 'x':
			s = "a process ID, or PID:INODE"
			if o.other == len(typeNames)+3 {
				s = "a user ID"
			} else if o.other == len(typeNames)+4 {
				s = "a group ID"
			} else if o.other == len(typeNames)+7 {
				s = "a descriptor from 3 up"
			} else if o.other == len(typeNames)+8 {
				s = `"status"`
			} else if o.other == varReexecFD {
				s = "a file descriptor"
			}
		case 'r':
			if o.other >= 0 && o.other < len(notRunWhy) {
				s = notRunWhy[o.other]
			}
		}
		msg += t[:i] + s
		t, i = t[i+2:], -1
	}
	return msg + t
}

// Unwrap returns the sentinel of o's code, or else its errno.
func (o *outcome) Unwrap() error {
	if s := wraps[o.kind()]; s != 0 {
		return &sentinels[s-1]
	}
	if o.errno != 0 {
		return o.errno
	}
	return nil
}

// cstring returns the NUL-terminated string at the start of b.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// quote returns s in double quotes, with quotes, backslashes, control
// characters and bytes that are not UTF-8 escaped as \xNN.
func quote(s string) string {
	q, j := "\"", 0
	for i, r := range s {
		// range decodes each byte that is not UTF-8 to U+FFFD, so each
		// escape stands for one byte.
		if r == '"' || r == '\\' || r < ' ' || r == 0x7f || r == 0xfffd && (len(s) < i+3 || s[i:i+3] != "\ufffd") {
			c := s[i]
			e := string([]byte{'\\', c})
			if c != '"' && c != '\\' {
				e = string([]byte{'\\', 'x', hexDigits[c>>4], hexDigits[c&15]})
			}
			q += s[j:i] + e
			j = i + 1
		}
	}
	return q + s[j:] + "\""
}

const hexDigits = "0123456789abcdef"

// itoa formats an int.
func itoa(n int) string {
	if n < 0 {
		return "-" + utoa(uint64(-n))
	}
	return utoa(uint64(n))
}

// utoa formats a uint64. It is not inlined: its callers are cold.
//
//go:noinline
func utoa(n uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}
