package status

import (
	"syscall"
	"unicode/utf8"
	"unsafe"
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
	numCodes
)

// typeNames are the namespace types in the index order of the C code.
var typeNames = [...]string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}

// varNames are the variables after the types, in the order of enum gons_var.
var varNames = [...]string{"order", "target", "target_ns", "uid", "gid", "wd", "root"}

// varName returns the name of variable v, with its prefix.
func varName(v int) string {
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
	targetPID, pad                   int32
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
}

// outcome is the decoded record.
type outcome struct {
	joined []int
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

// load decodes the record; the zero outcome when there is none.
func load() outcome {
	r := crec
	if r == nil {
		return outcome{typ: -1, other: -1}
	}
	o := outcome{
		op: int(r.op), typ: int(r.typ), errno: syscall.Errno(r.errno), code: int(r.code),
		index: int(r.index), other: int(r.oth), path: cstring(r.path[:]), detail: cstring(r.detail[:]),
		targetPID: int(r.targetPID), targetInode: r.targetInode, wantInode: r.wantInode,
	}
	for _, t := range r.joined[:min(max(int(r.njoined), 0), len(r.joined))] {
		o.joined = append(o.joined, int(t))
	}
	return o
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

// err turns a recorded failure into an *Error.
func (o *outcome) err() *Error {
	e := &Error{Op: "unknown", Type: typeName(o.typ), Path: o.path}
	if o.op > 0 && o.op < len(opNames) {
		e.Op = opNames[o.op]
	}
	switch o.code {
	case codeNone:
		switch {
		case o.op == opSecure:
			e.Err = ErrSecure
		case o.op == opTarget:
			e.Err = detail("process "+itoa(o.targetPID)+": "+o.errno.Error(), o.errno)
		case o.errno != 0:
			e.Err = o.errno
		}
	case codeUnknownVar:
		e.Err = detail("unknown variable "+quote(o.detail), ErrUnknownVariable)
	case codeDuplicateVar:
		e.Err = detail(o.detail+" set more than once", ErrDuplicate)
	case codeEmptyItem:
		e.Err = detail(varName(o.other)+": item "+itoa(o.index)+" is empty", ErrSyntax)
	case codeBangAlone:
		e.Err = detail(varName(o.other)+": item "+itoa(o.index)+" is \"!\" without a type", ErrSyntax)
	case codeUnknownType:
		e.Err = detail(varName(o.other)+": unknown namespace type "+quote(o.detail), ErrUnknownType)
	case codeDuplicateType:
		e.Err = detail(varName(o.other)+": "+e.Type+" listed more than once", ErrDuplicate)
	case codeNotInOrder:
		e.Err = detail("gons_"+e.Type+" is set but gons_order leaves "+e.Type+" out", ErrNotInOrder)
	case codePathTooLong:
		e.Err = detail(varName(o.other)+" is longer than PATH_MAX", o.errno)
	case codeBadNumber:
		what := "a process ID, or PID:INODE"
		switch varName(o.other) {
		case "gons_uid":
			what = "a user ID"
		case "gons_gid":
			what = "a group ID"
		}
		e.Err = detail(varName(o.other)+": "+quote(o.detail)+" is not "+what, ErrSyntax)
	case codeConflict:
		e.Err = detail(varName(o.other)+" and gons_target both say which namespaces to join", ErrConflict)
	case codeNoTarget:
		e.Err = detail("gons_target_ns is set without gons_target", ErrConflict)
	case codeReusedPID:
		e.Err = detail("process "+itoa(o.targetPID)+" has pidfd inode "+utoa(o.targetInode)+", not "+
			utoa(o.wantInode), ErrReusedPID)
	case codeWrongType:
		e.Err = detail("a "+typeName(o.other)+" namespace, not "+e.Type, ErrWrongType)
	case codeNotNamespace:
		e.Err = detail("not a namespace file ("+o.errno.Error()+")", o.errno)
	default:
		e.Err = detail("failure code "+itoa(o.code), o.errno)
	}
	return e
}

func detail(msg string, err error) error { return &detailError{msg: msg, err: err} }

// notRun returns an *Error when gons_* variables are set in a process whose
// constructor did not run, and nil otherwise.
func notRun() error {
	name := ""
	for _, kv := range syscall.Environ() {
		if len(kv) > 5 && kv[:5] == "gons_" {
			name = kv
			for i := range kv {
				if kv[i] == '=' {
					name = kv[:i]
					break
				}
			}
			break
		}
	}
	if name == "" {
		return nil
	}
	why := "package early is not linked into this program"
	switch state {
	case stateNoCtor:
		why = "the program was linked internally (-linkmode=internal), which skips C constructors"
	case stateNoCgo:
		why = "package early was built without cgo (CGO_ENABLED=0)"
	case stateNoLinux:
		why = "package early works on Linux only"
	}
	return &Error{Op: "start", Err: detail(name+" is set but "+ErrNotRun.Error()+": "+why, ErrNotRun)}
}

// quote returns s in double quotes, with quotes, backslashes, control
// characters and bytes that are not UTF-8 escaped as \xNN.
func quote(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == utf8.RuneError && n == 1, r < ' ', r == 0x7f:
			b = append(b, '\\', 'x', hex[s[i]>>4], hex[s[i]&15])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(append(b, '"'))
}

// itoa formats an int.
func itoa(n int) string {
	if n < 0 {
		return "-" + utoa(uint64(-n))
	}
	return utoa(uint64(n))
}

// utoa formats a uint64.
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
