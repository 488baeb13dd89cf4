package status

import (
	"syscall"
	"unsafe"

	"github.com/gonsproject/gons/internal/handoff"
)

// The values below mirror the C enums in internal/preinit/gons.h; TestRecordCodes
// keeps both in step.

// States of the record.
const (
	stateUnset   = iota // no constructor's record and no word from record: early is not linked in
	stateRan            // the constructor ran
	stateNoCtor         // early is linked, but its constructor did not run (internal linking)
	stateNoCgo          // early was built with CGO_ENABLED=0
	stateNoLinux        // early was built for another OS
)

// Ops of a failure, lines of opNames.
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
	opExec
)

// opNames are the names of the ops, one a line: lists in one string cost a
// program less than arrays of strings (see nth).
const opNames = "\nparse\nsecure\nopen\ncheck\nsetns\nfork\ntarget\nchroot\nchdir\nsetgroups\nsetgid\nsetuid\nexec"

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

// varNames are the names of the gons_* variables without the prefix, one
// a line, in the order of enum gons_var: the namespace types, in the index
// order of the C code, then the others; the last is GONS_REEXEC_FD, which
// package reexec sets.
const varNames = "cgroup\nipc\nmnt\nnet\npid\ntime\nuser\nuts\n" +
	"order\ntarget\ntarget_ns\nuid\ngid\nwd\nroot\ntarget_fd\nerrors\nreexec_fd"

// Variables, as enum gons_var numbers them.
const (
	numTypes    = 8
	varTarget   = numTypes + 1
	varReexecFD = numTypes + 9
)

// typeName returns the name of type t, or "" for none.
func typeName(t int) string {
	if t >= numTypes {
		return ""
	}
	return nth(varNames, t)
}

// cRecord mirrors struct gons_record of internal/preinit/gons.h, which early hands
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

// state and crec are what record was told, where no constructor is linked
// (see current).
var (
	state int      // one of the states above
	crec  *cRecord // a record given to record; nil unless the constructor ran
)

// record receives from package internal/preinit, once, in its Go init,
// why there is no constructor: without cgo or off Linux. It is defined
// here and declared without a body there (the "push" form of the
// linkname directive), so that status needs no cgo and exports no setter,
// and a program that imports only status still links.
//
//go:linkname record
func record(s int, r unsafe.Pointer) {
	state, crec = s, (*cRecord)(r)
}

// current returns the state and the record of the constructor, read in
// place where the program links it (handoff.Ctor, which the linker fills
// in): decoding waits until the program asks. A record that ran says
// GONS_RAN_IGNORED is not this process's (a program that links the
// constructor through reexec alone): as if early were not linked.
func current() (int, *cRecord) {
	if r := (*cRecord)(unsafe.Pointer(handoff.Ctor)); r != nil {
		switch r.ran {
		case stateRan:
			return stateRan, r
		case 0:
			return stateNoCtor, nil
		}
	}
	return state, crec
}

// failure is a failure the constructor recorded, decoded (see Err).
type failure struct {
	op     int
	typ    int // a type (a line of varNames), -1 for none
	errno  syscall.Errno
	code   int
	index  int
	other  int
	path   string
	detail string

	targetPID              int
	targetInode, wantInode uint64
}

// messages are the templates of the failures' messages, by code, one a
// line; see Err for what % and a letter stand for.
const messages = "process %p: %e\n" + // codeNone: the target, whose pidfd could not be had
	"unknown variable %q\n" + // codeUnknownVar
	"%d set more than once\n" + // codeDuplicateVar
	"%v: item %i is empty\n" + // codeEmptyItem
	"%v: item %i is \"!\" without a type\n" + // codeBangAlone
	"%v: unknown namespace type %q\n" + // codeUnknownType
	"%v: %t listed more than once\n" + // codeDuplicateType
	"gons_%t is set but gons_order leaves %t out\n" + // codeNotInOrder
	"%v is longer than PATH_MAX\n" + // codePathTooLong
	"a %o namespace, not %t\n" + // codeWrongType
	"not a namespace file (%e)\n" + // codeNotNamespace
	"%v: %q is not %x\n" + // codeBadNumber
	"%v and gons_target both say which namespaces to join\n" + // codeConflict
	"%v is set without gons_target\n" + // codeNoTarget
	"process %p has pidfd inode %n, not %w\n" + // codeReusedPID
	"gons_target_fd: %i is not a pidfd of process %p (%e)\n" + // codeNotPidfd
	"gons_target %p:%w: no inode names a process before pidfs (Linux 6.9)\n" + // codeNoPidfs
	"process %p, %d: %e\n" + // codeTargetSetns
	"failure code %c" // numCodes: a code this package does not know

// notRunWhy says why the constructor did not run, by state, one a line.
const notRunWhy = "package early is not linked into this program\n\n" + // stateUnset
	"the program was linked internally (-linkmode=internal), which skips C constructors\n" + // stateNoCtor
	"package early was built without cgo (CGO_ENABLED=0, or no C compiler, which makes go build without cgo)\n" + // stateNoCgo
	"package early works on Linux only" // stateNoLinux

// wraps are the sentinels that the failures of each code wrap, as indexes
// into sentinels plus one; 0: the errno, if any.
var wraps = [numCodes + 1]uint8{
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
}

// numberNames say what the value of each variable that takes a number
// should have been, by variable from gons_target on, one a line.
const numberNames = "a process ID, or PID:INODE\n\n" + // gons_target
	"a user ID\na group ID\n\n\n" + // gons_uid, gons_gid
	"a descriptor from 3 up\n" + // gons_target_fd
	"\"status\"\n" + // gons_errors
	"a file descriptor" // GONS_REEXEC_FD

// nth returns the i-th line of list, or "" when it has none. It is not
// inlined: one copy costs less than one at each caller.
//
//go:noinline
func nth(list string, i int) string {
	if i < 0 {
		return ""
	}
	for ; i > 0; i-- {
		n := index(list, '\n')
		if n < 0 {
			return ""
		}
		list = list[n+1:]
	}
	if n := index(list, '\n'); n >= 0 {
		return list[:n]
	}
	return list
}

// index returns the index of the first c in s, or -1.
func index(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
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

// quote returns s in double quotes, with quotes and backslashes escaped
// by a backslash, and control characters and bytes that are not UTF-8 as
// \xNN.
func quote(s string) string {
	q, j := "\"", 0
	for i, r := range s {
		// range decodes each byte that is not UTF-8 to U+FFFD, so each
		// escape stands for one byte.
		if r == '"' || r == '\\' || r < ' ' || r == 0x7f || r == 0xfffd && (len(s) < i+3 || s[i:i+3] != "\ufffd") {
			c := s[i]
			e, n := [4]byte{'\\', 'x', hexDigits[c>>4], hexDigits[c&15]}, 4
			if c == '"' || c == '\\' {
				e[1], n = c, 2
			}
			q += s[j:i] + string(e[:n])
			j = i + 1
		}
	}
	return q + s[j:] + "\""
}

const hexDigits = "0123456789abcdef"
