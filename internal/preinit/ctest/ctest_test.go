//go:build linux && cgo

package ctest

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Codes and ops of gons.h used below.
const (
	opParse         = 1
	codeUnknownVar  = 1
	codeDuplicate   = 2
	codeEmptyItem   = 3
	codeBangAlone   = 4
	codeUnknownType = 5
	codeDupType     = 6
	codeNotInOrder  = 7
	codePathTooLong = 8
	codeBadNumber   = 11
	codeConflict    = 12
	codeNoTarget    = 13
	typeIPC         = 1
	typeMnt         = 2
	typeNet         = 3
	typeUser        = 6
	typeUTS         = 7
)

func TestVarNames(t *testing.T) {
	want := []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts",
		"order", "target", "target_ns", "uid", "gid", "wd", "root", "target_fd", "errors"}
	var got []string
	for i := 0; i < NVars; i++ {
		got = append(got, VarName(i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("variable names %v, want %v", got, want)
	}
}

func TestParseTarget(t *testing.T) {
	const all = 1<<NTypes - 1
	tests := []struct {
		name  string
		env   []string
		found int
		want  Result // the fields compared
	}{
		{"pid", []string{"gons_target=42"}, 1, Result{Target: 42, Types: all}},
		{"pid:inode", []string{"gons_target=42:18446744073709551615"}, 1, Result{Target: 42, Inode: 1<<64 - 1, Types: all}},
		{"largest pid", []string{"gons_target=2147483647"}, 1, Result{Target: 1<<31 - 1, Types: all}},
		{"some types", []string{"gons_target=7", "gons_target_ns=net, uts"}, 1, Result{Target: 7, Types: 1<<typeNet | 1<<typeUTS}},
		{"empty target_ns is unset", []string{"gons_target=7", "gons_target_ns="}, 1, Result{Target: 7, Types: all}},
		{"ids and dirs", []string{"gons_uid=0", "gons_gid=4294967294", "gons_wd=w", "gons_root=/r"}, 1,
			Result{UID: 0, GID: 1<<32 - 2, WD: "w", Root: "/r", Drop: true}},
		{"pid too large", []string{"gons_target=2147483648"}, -1, Result{Code: codeBadNumber}},
		{"inode too large", []string{"gons_target=1:18446744073709551616"}, -1, Result{Code: codeBadNumber}},
		{"inode zero", []string{"gons_target=1:0"}, -1, Result{Code: codeBadNumber}},
		{"plus sign", []string{"gons_target=+1"}, -1, Result{Code: codeBadNumber}},
		{"blank", []string{"gons_target= 1"}, -1, Result{Code: codeBadNumber}},
		{"two colons", []string{"gons_target=1:2:3"}, -1, Result{Code: codeBadNumber}},
		{"uid -1", []string{"gons_uid=4294967295"}, -1, Result{Code: codeBadNumber, Drop: true}},
		{"conflict", []string{"gons_target=1", "gons_ipc=/x"}, -1, Result{Code: codeConflict}},
		{"no target", []string{"gons_target_ns=net"}, -1, Result{Code: codeNoTarget}},
		{"pidfd", []string{"gons_target_fd=3", "gons_target=42"}, 1, Result{Target: 42, Types: all, TargetFD: 3}},
		{"errors", []string{"gons_errors=status", "gons_uid=1"}, 1, Result{UID: 1, GID: -1, ErrorsStatus: true, Drop: true}},
		{"errors other", []string{"gons_errors=statuses"}, -1, Result{Code: codeBadNumber}},
		{"errors short", []string{"gons_errors=stat"}, -1, Result{Code: codeBadNumber}},
		{"pidfd 2", []string{"gons_target=42", "gons_target_fd=2"}, -1, Result{Code: codeBadNumber}},
		{"pidfd without target", []string{"gons_target_fd=5"}, -1, Result{Code: codeNoTarget}},
		// After a failure: whether a drop was asked for, and gons_errors=status, wherever they stand.
		{"drop after a failure", []string{"gons_nett=x", "gons_gid=7"}, -1, Result{Code: codeUnknownVar, Drop: true}},
		{"drop before a failure", []string{"gons_uid=7", "gons_target=x"}, -1, Result{Code: codeBadNumber, Drop: true}},
		{"bad drop", []string{"gons_uid=x"}, -1, Result{Code: codeBadNumber, Drop: true}},
		{"empty drop", []string{"gons_uid=", "gons_nett=x"}, -1, Result{Code: codeUnknownVar}},
		{"errors after a failure", []string{"gons_nett=x", "gons_uid=7", "gons_errors=status"}, -1,
			Result{Code: codeUnknownVar, Drop: true, ErrorsStatus: true}},
		{"bad errors after a failure", []string{"gons_nett=x", "gons_uid=7", "gons_errors=statuses"}, -1,
			Result{Code: codeUnknownVar, Drop: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Parse(tt.env)
			got := Result{Target: r.Target, Inode: r.Inode, Types: r.Types, Code: r.Code, WD: r.WD, Root: r.Root, UID: r.UID,
				GID: r.GID, TargetFD: r.TargetFD, ErrorsStatus: r.ErrorsStatus, Drop: r.Drop}
			want := tt.want
			if tt.found < 0 {
				// What a failed parse left in the spec is unused, but for what holds on every path.
				got = Result{Code: r.Code, UID: -1, GID: -1, TargetFD: -1, Drop: r.Drop, ErrorsStatus: r.ErrorsStatus}
			}
			if want.TargetFD == 0 {
				want.TargetFD = -1
			}
			if want.UID == 0 && want.GID == 0 && want.WD == "" {
				want.UID, want.GID = -1, -1
			}
			if r.Found != tt.found {
				t.Errorf("found %d, want %d", r.Found, tt.found)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseReexecFD checks that GONS_REEXEC_FD's value goes to the
// record, that it is removed like the gons_* variables, and that nothing
// else of that name is.
func TestParseReexecFD(t *testing.T) {
	tests := []struct {
		name  string
		env   []string
		found int
		fd    int
		code  int
	}{
		{"alone", []string{"A=1", "GONS_REEXEC_FD=5"}, 0, 5, 0},
		{"with gons_*", []string{"GONS_REEXEC_FD=0", "gons_net=/n"}, 1, 0, 0},
		{"largest", []string{"GONS_REEXEC_FD=2147483646"}, 0, 1<<31 - 2, 0},
		{"too large", []string{"GONS_REEXEC_FD=2147483647"}, -1, -1, codeBadNumber},
		{"not a number", []string{"GONS_REEXEC_FD=3x"}, -1, -1, codeBadNumber},
		{"empty", []string{"GONS_REEXEC_FD="}, -1, -1, codeBadNumber},
		{"twice", []string{"GONS_REEXEC_FD=3", "GONS_REEXEC_FD=3"}, -1, 3, codeDuplicate},
		{"other names", []string{"GONS_REEXEC_FDX=1", "GONS_REEXEC_F=1", "GONS_REEXEC_ACTION=a", "GONS_REEXEC_FD"}, 0, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Parse(tt.env)
			if r.Found != tt.found || r.ReexecFD != tt.fd || r.Code != tt.code {
				t.Errorf("found %d, fd %d, code %d; want %d, %d, %d", r.Found, r.ReexecFD, r.Code, tt.found, tt.fd, tt.code)
			}
			if tt.code != 0 && (r.Other != NVars || r.Type != -1) {
				t.Errorf("failure of variable %d, type %d; want %d (GONS_REEXEC_FD), -1", r.Other, r.Type, NVars)
			}
			checkStripped(t, tt.env, r)
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		env   []string
		found int
		order []int
		bang  uint
		code  int
		index int
		typ   int
	}{
		{name: "none", env: []string{"HOME=/", "GONS_NET=x", "gons", "gonsnet=x"}},
		{name: "empty values are unset", env: []string{"gons_net=", "gons_order="}, found: 1},
		{name: "no equals sign is unset", env: []string{"gons_net"}, found: 1},
		{
			name: "default order", env: []string{"gons_uts=u", "gons_net=n", "gons_user=x", "gons_mnt=m"},
			found: 1, order: []int{typeUser, typeMnt, typeNet, typeUTS},
			bang: 1<<typeUser | 1<<typeMnt | 1<<typeNet | 1<<typeUTS,
		},
		{
			name: "explicit order with blanks", env: []string{"gons_order=\t net , !ipc,user ", "gons_net=n", "gons_ipc=i"},
			found: 1, order: []int{typeNet, typeIPC}, bang: 1 << typeIPC,
		},
		{name: "duplicate variable", env: []string{"gons_net=a", "gons_net=b"}, found: -1, code: codeDuplicate, typ: -1},
		{name: "duplicate order", env: []string{"gons_order=net", "gons_order=net"}, found: -1, code: codeDuplicate, typ: -1},
		{name: "unknown variable", env: []string{"gons_=x"}, found: -1, code: codeUnknownVar, typ: -1},
		{name: "unknown type", env: []string{"gons_order=!netz"}, found: -1, code: codeUnknownType, typ: -1},
		{name: "bang and blank", env: []string{"gons_order=! net"}, found: -1, code: codeUnknownType, typ: -1},
		{name: "empty item", env: []string{"gons_order=net,,"}, found: -1, code: codeEmptyItem, index: 2, typ: -1},
		{name: "blank order", env: []string{"gons_order= "}, found: -1, code: codeEmptyItem, index: 1, typ: -1},
		{name: "bang alone", env: []string{"gons_order=net, ! "}, found: -1, code: codeBangAlone, index: 2, typ: -1},
		{name: "duplicate type", env: []string{"gons_order=net,uts,!net"}, found: -1, code: codeDupType, typ: typeNet},
		{name: "left out", env: []string{"gons_order=net", "gons_uts=u"}, found: -1, code: codeNotInOrder, typ: typeUTS},
		{name: "path too long", env: []string{"gons_mnt=/" + strings.Repeat("a", 4095)}, found: -1, code: codePathTooLong, typ: typeMnt},
		{name: "longest path", env: []string{"gons_mnt=/" + strings.Repeat("a", 4094)}, found: 1, order: []int{typeMnt}, bang: 1 << typeMnt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Parse(tt.env)
			if r.Found != tt.found || !slices.Equal(r.Order, tt.order) || r.Bang != tt.bang {
				t.Errorf("found %d, order %v, bang %b; want %d, %v, %b", r.Found, r.Order, r.Bang, tt.found, tt.order, tt.bang)
			}
			if tt.found < 0 && (r.Op != opParse || r.Code != tt.code || r.Index != tt.index || r.Type != tt.typ) {
				t.Errorf("op %d, code %d, index %d, type %d; want %d, %d, %d, %d", r.Op, r.Code, r.Index, r.Type,
					opParse, tt.code, tt.index, tt.typ)
			}
			checkStripped(t, tt.env, r)
		})
	}
}

// TestDetailCut checks that an over-long item is cut to fit the record and
// marked as cut.
func TestDetailCut(t *testing.T) {
	r := Parse([]string{"gons_order=" + strings.Repeat("x", 1000)})
	if want := strings.Repeat("x", 252) + "..."; r.Detail != want {
		t.Errorf("detail %q, want %q", r.Detail, want)
	}
}

// checkStripped checks what gons_strip left: empty strings in the freed
// slots, then the other entries, in order, where the returned slot begins,
// then the NULL, where it was; and the gons_* strings with their values
// overwritten by NULs, the others as they were.
func checkStripped(t *testing.T, env []string, r Result) {
	t.Helper()
	var kept []string
	for _, kv := range env {
		if !isOurs(kv) {
			kept = append(kept, kv)
		}
	}
	want := append(make([]string, len(env)-len(kept)), kept...)
	if diff := cmp.Diff(want, r.Env); diff != "" {
		t.Errorf("environment after gons_strip (-want +got):\n%s", diff)
	}
	if r.Start != len(env)-len(kept) {
		t.Errorf("gons_strip returned slot %d, want %d, the first kept one", r.Start, len(env)-len(kept))
	}
	if !r.EndNil {
		t.Error("gons_strip moved the NULL that ends the environment")
	}
	for i, kv := range env {
		want := kv
		if name, value, ok := strings.Cut(kv, "="); ok && isOurs(kv) {
			want = name + "=" + strings.Repeat("\x00", len(value))
		}
		if r.Strings[i] != want {
			t.Errorf("string %q after gons_strip: %q, want %q", kv, r.Strings[i], want)
		}
	}
}

// isOurs reports whether kv is a variable the constructor removes.
func isOurs(kv string) bool {
	return strings.HasPrefix(kv, "gons_") || strings.HasPrefix(kv, "GONS_REEXEC_FD=")
}

// FuzzParse feeds the parser environments made of arbitrary bytes, one
// entry per line, and checks what it makes of them.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"HOME=/\nPATH=/bin",
		"gons_net=/proc/1/ns/net",
		"gons_order=!user,mnt, net ,!cgroup\ngons_user=/u\ngons_mnt=/m\ngons_net=/n\ngons_cgroup=/c",
		"gons_order=net,,uts\ngons_net=x",
		"gons_order=!\ngons_net=x",
		"gons_order=net,net\ngons_net=x",
		"gons_xyz=1",
		"gons_net=a\ngons_net=b",
		"gons_order=n\xffet\ngons_net=\xff",
		"gons_pid=/p\ngons_time=/t\ngons_ipc=/i\ngons_uts=/u\ngons_order=time,pid",
		"gons_mnt=/" + strings.Repeat("a", 4100),
		"gons_order=" + strings.Repeat("uts,", 100),
		"gons_target=42:7\ngons_target_ns=net,!uts,,\ngons_uid=1\ngons_gid=2\ngons_wd=/\ngons_root=/",
		"gons_target=4294967296\ngons_net=x",
		"GONS_REEXEC_FD=3\ngons_uts=u\nGONS_REEXEC_FD=x",
		"gons_target=7\ngons_target_fd=3",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var env []string
		for _, line := range bytes.Split(data, []byte("\n")) {
			// C strings end at the first NUL.
			line, _, _ = bytes.Cut(line, []byte{0})
			env = append(env, string(line))
		}
		r := Parse(env)
		checkStripped(t, env, r)
		hasGons := slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "gons_") })
		if r.Present != slices.ContainsFunc(env, isOurs) {
			t.Fatalf("gons_present says %v", r.Present)
		}
		switch {
		case r.Found == 0:
			if hasGons {
				t.Fatal("gons_parse found nothing in an environment with gons_ entries")
			}
		case r.Found == 1:
			checkSpec(t, r)
		case r.Found == -1:
			if r.Op != opParse || r.Code <= 0 || len(r.Detail) >= 256 || len(r.Path) >= 4096 {
				t.Fatalf("failure record op %d code %d, detail %d bytes, path %d bytes", r.Op, r.Code, len(r.Detail), len(r.Path))
			}
		default:
			t.Fatalf("gons_parse returned %d", r.Found)
		}
	})
}

// checkSpec checks a successful parse: every type with a path is in the
// order once, nothing else is, and bang marks only listed types; with a
// target, there are no paths and no order.
func checkSpec(t *testing.T, r Result) {
	t.Helper()
	if r.TargetFD >= 0 && (r.Target == 0 || r.TargetFD < 3) {
		t.Fatalf("gons_target_fd %d with gons_target %d", r.TargetFD, r.Target)
	}
	if r.Target != 0 {
		if r.Target < 0 || r.Types == 0 || r.Types >= 1<<NTypes || len(r.Order) != 0 || r.Bang != 0 ||
			slices.ContainsFunc(r.Paths, func(p string) bool { return p != "" }) {
			t.Fatalf("target %d, types %b, order %v, paths %q", r.Target, r.Types, r.Order, r.Paths)
		}
		return
	}
	var listed uint
	for _, typ := range r.Order {
		if typ < 0 || typ >= NTypes || listed&(1<<typ) != 0 || r.Paths[typ] == "" {
			t.Fatalf("order %v with paths %q", r.Order, r.Paths)
		}
		listed |= 1 << typ
	}
	for typ, p := range r.Paths {
		if (p != "") != (listed&(1<<typ) != 0) || len(p) >= 4096 {
			t.Fatalf("path %q of type %d, listed: %v", p, typ, listed&(1<<typ) != 0)
		}
	}
	if r.Bang&^listed != 0 {
		t.Fatalf("bang %b beyond the listed types %b", r.Bang, listed)
	}
}

// TestTargetFDOf checks which gons_target_fd entries name a descriptor the
// constructor closes after a parse failure: those whose value the
// variable takes.
func TestTargetFDOf(t *testing.T) {
	for s, want := range map[string]int{
		"gons_target_fd=3": 3, "gons_target_fd=2147483646": 2147483646, "gons_target_fd=": -1,
		"gons_target_fd=2": -1, "gons_target_fd=x": -1, "gons_target_fd=2147483647": -1,
		"gons_target=3": -1, "gons_target_fd3": -1,
	} {
		if got := TargetFDOf(s); got != want {
			t.Errorf("%q: got %d, want %d", s, got, want)
		}
	}
}
