package status

import (
	"syscall"
	"unicode/utf8"
	_ "unsafe" // for go:linkname
)

// The values below mirror the C enums in early/gons.h; TestRecordCodes in
// package early keeps both in step.

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
)

var opNames = [...]string{"", "parse", "secure", "open", "check", "setns", "fork"}

// Parse failure codes.
const (
	codeNone          = iota
	codeUnknownVar    // detail: the variable's name
	codeDuplicateVar  // detail: the variable's name
	codeEmptyItem     // index: the item's position in gons_order
	codeBangAlone     // index: the item's position in gons_order
	codeUnknownType   // detail: the item
	codeDuplicateType // type
	codeNotInOrder    // type
	codePathTooLong   // type, path (cut short), errno ENAMETOOLONG
	codeWrongType     // type, path, other: the type the file really is
	codeNotNamespace  // type, path, errno from NS_GET_NSTYPE
	numCodes
)

// typeNames are the namespace types in the index order of the C code.
var typeNames = [...]string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}

func typeName(t int) string {
	if t < 0 || t >= len(typeNames) {
		return ""
	}
	return typeNames[t]
}

// outcome is what the constructor left behind.
type outcome struct {
	state  int
	joined []int
	op     int
	typ    int // index into typeNames, -1 for none
	errno  syscall.Errno
	code   int
	index  int
	other  int
	path   string
	detail string
}

var rec outcome

// record receives the constructor's outcome from package early, once, in
// early's Go init. It is defined here and declared without a body in early
// (the "push" form of go:linkname), so that status needs no cgo and exports
// no setter, and a program that imports only status still links.
//
//go:linkname record
func record(state int, joined []int, op, typ, errno, code, index, other int, path, detail string) {
	rec = outcome{
		state: state, joined: joined, op: op, typ: typ, errno: syscall.Errno(errno),
		code: code, index: index, other: other, path: path, detail: detail,
	}
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
		case o.errno != 0:
			e.Err = o.errno
		}
	case codeUnknownVar:
		e.Err = detail("unknown variable "+quote(o.detail), ErrUnknownVariable)
	case codeDuplicateVar:
		e.Err = detail(o.detail+" set more than once", ErrDuplicate)
	case codeEmptyItem:
		e.Err = detail("gons_order: item "+itoa(o.index)+" is empty", ErrSyntax)
	case codeBangAlone:
		e.Err = detail("gons_order: item "+itoa(o.index)+" is \"!\" without a type", ErrSyntax)
	case codeUnknownType:
		e.Err = detail("gons_order: unknown namespace type "+quote(o.detail), ErrUnknownType)
	case codeDuplicateType:
		e.Err = detail("gons_order: "+e.Type+" listed more than once", ErrDuplicate)
	case codeNotInOrder:
		e.Err = detail("gons_"+e.Type+" is set but gons_order leaves "+e.Type+" out", ErrNotInOrder)
	case codePathTooLong:
		e.Err = detail("gons_"+e.Type+" is longer than PATH_MAX", o.errno)
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
	switch rec.state {
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

// itoa formats a non-negative int.
func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
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
