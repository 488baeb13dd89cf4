package status

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"

	"github.com/gonsproject/gons/internal/cause"
)

// enum returns the enumerators of the C enum name in internal/preinit/gons.h, in
// order, without their prefix.
func enum(t *testing.T, name, prefix string) []string {
	t.Helper()
	src, err := os.ReadFile("../internal/preinit/gons.h")
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?s)enum ` + name + ` \{(.*?)\};`).FindSubmatch(src)
	if body == nil {
		t.Fatalf("no enum %s in gons.h", name)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*`+prefix+`(\w+)(?:\s*=\s*\w+)?,`).FindAllSubmatch(body[1], -1) {
		names = append(names, strings.ToLower(string(m[1])))
	}
	return names
}

// TestRecordCodes checks that the constants here match the C enums.
func TestRecordCodes(t *testing.T) {
	assert.Check(t, is.DeepEqual(enum(t, "gons_type", "GONS_"), append(strings.Split(varNames, "\n")[:numTypes], "ntypes")), "enum gons_type and typeNames")
	assert.Check(t, is.DeepEqual(enum(t, "gons_op", "GONS_OP_"), append([]string{"none"}, strings.Split(opNames, "\n")[1:]...)), "enum gons_op and opNames")
	codes := []string{"none", "unknown_var", "duplicate_var", "empty_item", "bang_alone", "unknown_type",
		"duplicate_type", "not_in_order", "path_too_long", "wrong_type", "not_namespace", "bad_number",
		"conflict", "no_target", "reused_pid", "not_pidfd", "no_pidfs", "target_setns"}
	assert.Equal(t, len(codes), numCodes, "codes listed here and defined")
	assert.Check(t, is.DeepEqual(enum(t, "gons_code", "GONS_CODE_"), codes), "enum gons_code")
}

func TestError(t *testing.T) {
	tests := []struct {
		name string
		o    failure
		is   []error
	}{{
		name: "setns",
		o:    failure{op: opSetns, typ: 2, errno: syscall.EPERM, path: "/proc/42/ns/mnt"},
		is:   []error{syscall.EPERM},
	}, {
		name: "setns, another type",
		o:    failure{op: opSetns, typ: 3, errno: syscall.EPERM, path: "/proc/42/ns/net"},
		is:   []error{syscall.EPERM},
	}, {
		name: "setns, user",
		o:    failure{op: opSetns, typ: 6, errno: syscall.EPERM, path: "/proc/42/ns/user"},
		is:   []error{syscall.EPERM},
	}, {
		name: "open, another user's process",
		o:    failure{op: opOpen, typ: 3, errno: syscall.EACCES, path: "/proc/1/ns/net"},
		is:   []error{syscall.EACCES},
	}, {
		name: "open, a file's permissions",
		o:    failure{op: opOpen, typ: 3, errno: syscall.EACCES, path: "/run/netns/x"},
		is:   []error{syscall.EACCES},
	}, {
		name: "secure",
		o:    failure{op: opSecure, typ: -1, errno: syscall.EPERM},
		is:   []error{ErrSecure, syscall.EPERM},
	}, {
		name: "unknown variable, not UTF-8",
		o:    failure{op: opParse, typ: -1, code: codeUnknownVar, detail: "gons_n\xffet\"\n"},
		is:   []error{ErrUnknownVariable},
	}, {
		name: "empty item",
		o:    failure{op: opParse, typ: -1, code: codeEmptyItem, index: 12, other: 8},
		is:   []error{ErrSyntax},
	}, {
		name: "wrong type",
		o:    failure{op: opCheck, typ: 3, code: codeWrongType, other: 7, errno: syscall.EINVAL, path: "/x"},
		is:   []error{ErrWrongType, syscall.EINVAL},
	}, {
		name: "not a namespace",
		o:    failure{op: opCheck, typ: 3, code: codeNotNamespace, errno: syscall.ENOTTY, path: "/etc"},
		is:   []error{syscall.ENOTTY},
	}, {
		name: "path too long",
		o:    failure{op: opParse, typ: 3, code: codePathTooLong, errno: syscall.ENAMETOOLONG, path: "/a...", other: 3},
		is:   []error{syscall.ENAMETOOLONG},
	}, {
		name: "target gone",
		o:    failure{op: opTarget, typ: -1, errno: syscall.ESRCH, targetPID: 42},
		is:   []error{syscall.ESRCH},
	}, {
		name: "reused PID",
		o:    failure{op: opTarget, typ: -1, code: codeReusedPID, errno: syscall.EINVAL, targetPID: 42, wantInode: 7, targetInode: 9},
		is:   []error{ErrReusedPID, syscall.EINVAL},
	}, {
		name: "not a pidfd",
		o:    failure{op: opTarget, typ: -1, code: codeNotPidfd, errno: syscall.EBADF, targetPID: 42, index: 5},
		is:   []error{syscall.EBADF},
	}, {
		name: "one setns of a target's pidfd",
		o:    failure{op: opSetns, typ: -1, code: codeTargetSetns, errno: syscall.EPERM, targetPID: 42, detail: "user,net,uts"},
		is:   []error{syscall.EPERM},
	}, {
		name: "inode without pidfs",
		o:    failure{op: opTarget, typ: -1, code: codeNoPidfs, errno: syscall.EOPNOTSUPP, targetPID: 42, wantInode: 7},
		is:   []error{syscall.EOPNOTSUPP},
	}, {
		name: "target_fd without target",
		o:    failure{op: opParse, typ: -1, code: codeNoTarget, other: 15},
		is:   []error{ErrConflict},
	}, {
		name: "bad target_fd",
		o:    failure{op: opParse, typ: -1, code: codeBadNumber, other: 15, detail: "2"},
		is:   []error{ErrSyntax},
	}, {
		name: "bad uid",
		o:    failure{op: opParse, typ: -1, code: codeBadNumber, other: 11, detail: "-1"},
		is:   []error{ErrSyntax},
	}, {
		name: "conflict",
		o:    failure{op: opParse, typ: 3, code: codeConflict, other: 3},
		is:   []error{ErrConflict},
	}, {
		name: "target_ns list",
		o:    failure{op: opParse, typ: -1, code: codeUnknownType, other: 10, detail: "!net"},
		is:   []error{ErrUnknownType},
	}, {
		name: "unknown code",
		o:    failure{op: 99, typ: -1, code: 99, errno: syscall.EIO},
		is:   []error{syscall.EIO},
	}, {
		name: "code of a newer constructor",
		o:    failure{op: opParse, typ: -1, code: numCodes + 1, errno: syscall.EIO},
		is:   []error{syscall.EIO},
	}}
	// The messages, as users read them, are in testdata/messages.golden;
	// go test -update writes what the code says now.
	var msgs strings.Builder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setRecord(t, stateRan, tt.o.record())
			err := Err()
			msgs.WriteString(tt.name + ":\n\t" + err.Error() + "\n")
			for _, target := range tt.is {
				assert.Check(t, is.ErrorIs(err, target))
			}
			var e *Error
			assert.Assert(t, errors.As(err, &e))
			assert.Check(t, is.Equal(e.Type, typeName(tt.o.typ)))
			assert.Check(t, is.Equal(e.Path, tt.o.path))
		})
	}
	golden.Assert(t, msgs.String(), "messages.golden")
}

// record returns f as the constructor records it.
func (f failure) record() *cRecord {
	r := &cRecord{ran: 1, op: int32(f.op), typ: int32(f.typ), errno: int32(f.errno), code: int32(f.code),
		index: int32(f.index), oth: int32(f.other), targetPID: int32(f.targetPID),
		targetInode: f.targetInode, wantInode: f.wantInode}
	copy(r.path[:], f.path)
	copy(r.detail[:], f.detail)
	return r
}

// TestRecordLayout checks the mirror of struct gons_record against the
// offsets that early checks at compile time.
func TestRecordLayout(t *testing.T) {
	var r cRecord
	got := []uintptr{unsafe.Offsetof(r.op), unsafe.Offsetof(r.targetInode), unsafe.Offsetof(r.path), unsafe.Sizeof(r)}
	want := []uintptr{10 * 4, 18 * 4, 18*4 + 2*8, 18*4 + 2*8 + 4096 + 256}
	assert.Check(t, is.DeepEqual(got, want), "offsets of op, target_inode, path and size")
	assert.Check(t, is.DeepEqual(enum(t, "gons_var", "GONS_VAR_"), strings.Split(varNames, "\n")[numTypes:]), "enum gons_var and varNames")
}

// setRecord makes r the record of a constructor that ran, until the test
// ends.
func setRecord(t *testing.T, s int, r *cRecord) {
	savedState, savedRec := state, crec
	t.Cleanup(func() { state, crec = savedState, savedRec })
	record(s, unsafe.Pointer(r))
}

func TestAPI(t *testing.T) {
	r := &cRecord{ran: 1, njoined: 3, joined: [8]int32{6, 2, 4}, op: opSetns, typ: 3, errno: int32(syscall.EPERM), oth: -1}
	copy(r.path[:], "/n")
	setRecord(t, stateRan, r)
	if !Ran() {
		t.Error("Ran() = false after the constructor ran")
	}
	assert.Check(t, is.DeepEqual(Joined(), []string{"user", "mnt", "pid"}))
	Joined()[0] = "changed"
	if Joined()[0] != "user" {
		t.Error("Joined() returns shared state")
	}
	var e *Error
	if err := Err(); !errors.Is(err, syscall.EPERM) || !errors.As(err, &e) || e.Path != "/n" || e.Type != "net" {
		t.Errorf("Err() = %v", err)
	}
	if pid, inode, ok := Target(); ok || pid != 0 || inode != 0 {
		t.Errorf("Target() = %d, %d, %v without gons_target", pid, inode, ok)
	}
	setRecord(t, stateRan, &cRecord{ran: 1, targetPID: 42, targetInode: 7})
	if pid, inode, ok := Target(); !ok || pid != 42 || inode != 7 {
		t.Errorf("Target() = %d, %d, %v; want 42, 7, true", pid, inode, ok)
	}
	if Err() != nil || Joined() != nil {
		t.Errorf("nothing asked for: Err() = %v, Joined() = %v", Err(), Joined())
	}
}

func TestNotRun(t *testing.T) {
	for _, tt := range []struct {
		state int
		why   string
	}{
		{stateUnset, "package early is not linked into this program"},
		{stateNoCtor, "-linkmode=internal"},
		{stateNoCgo, "CGO_ENABLED=0"},
		{stateNoLinux, "Linux only"},
	} {
		setRecord(t, tt.state, nil)
		os.Unsetenv("gons_net")
		if err := Err(); err != nil {
			t.Errorf("state %d without gons_*: Err() = %v", tt.state, err)
		}
		t.Setenv("gons_net", "/proc/1/ns/net")
		err := Err()
		if !errors.Is(err, ErrNotRun) || !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), "gons_net") {
			t.Errorf("state %d: Err() = %v, want ErrNotRun naming gons_net and %q", tt.state, err, tt.why)
		}
		if Ran() {
			t.Errorf("state %d: Ran() = true", tt.state)
		}
	}
}

// TestSentinels checks that a sentinel that wraps an errno says so at the
// end of its message, as the errno says it, and that errors.Is finds it.
func TestSentinels(t *testing.T) {
	for i := range sentinels {
		s := (*sentinels[i]).(*cause.Error)
		if s.Msg == "" {
			t.Errorf("sentinel %d has no message", i)
		}
		var errno syscall.Errno
		if !errors.As(s.Wrap, &errno) {
			assert.Check(t, !strings.HasSuffix(s.Msg, ")"), "sentinel %q wraps no errno", s.Msg)
			continue
		}
		assert.Check(t, strings.HasSuffix(s.Msg, " ("+errno.Error()+")"), "sentinel %q wraps %v", s.Msg, errno)
		assert.Check(t, errors.Is(s, errno))
	}
}
