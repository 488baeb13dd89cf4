package forkserver_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gonsproject/gons/internal/testutil"
)

// inheritOutcome is what testdata/inherit prints.
type inheritOutcome struct {
	Fork, Exec map[string]string
	Forked     bool
	Err        string
}

// runInherit runs the inherit subject, bin, with the change and its
// argument, under the wrapper command wrap, if any, with the variables env
// added to its environment.
func runInherit(t *testing.T, bin string, wrap, env []string, change, arg string) inheritOutcome {
	t.Helper()
	args := append(append([]string(nil), wrap...), bin, change)
	if arg != "" {
		args = append(args, arg)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var o inheritOutcome
	if jerr := json.Unmarshal(out, &o); jerr != nil {
		t.Fatalf("%s: %v, printed %q: %v", strings.Join(args, " "), err, out, jerr)
	}
	if o.Err != "" {
		if strings.Contains(o.Err, "function not implemented") || strings.Contains(o.Err, "not supported") {
			testutil.Unavailable(t, "%s: %s", change, o.Err)
		}
		t.Fatalf("%s: %s", strings.Join(args, " "), o.Err)
	}
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return o
}

// TestInherit checks the table of the package doc, row by row: a program
// changes a property of its state after it started, as it may while it
// runs, then starts a child that may go through the fork server, and one
// by exec. Both children must report the same state, the change must
// show in the exec'd one (so the test could fail), and the first call
// must have gone through exec: no row is passed to the fork server's
// child. An unchanged program's call goes through the server.
func TestInherit(t *testing.T) {
	testutil.RequireRoot(t) // most changes need privileges
	bin := filepath.Join(t.TempDir(), "inherit")
	testutil.RequireCgo(t)
	if out, err := exec.Command(testutil.GoTool(t), "build", "-buildvcs=false", "-o", bin, "./testdata/inherit").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	base := runInherit(t, bin, nil, nil, "none", "")
	t.Run("none", func(t *testing.T) {
		if !base.Forked {
			t.Error("the call of an unchanged program went through exec, not the fork server")
		}
		if d := cmp.Diff(base.Exec, base.Fork); d != "" {
			t.Errorf("exec'd child (-) and fork server's (+) differ:\n%s", d)
		}
	})

	type row struct {
		name, change string
		// arg, wrap and env return the change's argument, a command
		// to run the subject under and variables to start it with;
		// nil: none.
		arg       func(t *testing.T) string
		wrap, env func(t *testing.T) []string
		// field is where the change shows in the exec'd child: as
		// want, or, when want is "", as a value other than without
		// the change.
		field, want string
	}
	rows := []row{
		{name: "seccomp", change: "seccomp", field: "sysinfo", want: "operation not permitted"},
		{name: "seccomp filters", change: "seccomp", field: "Seccomp_filters", want: "1"},
		{name: "no_new_privs", change: "no_new_privs", field: "NoNewPrivs", want: "1"},
		{name: "groups", change: "groups", field: "Groups",
			wrap: func(t *testing.T) []string {
				return []string{testutil.RequireTool(t, "setpriv"), "--groups=10,20", "--"}
			}},
		{name: "gid", change: "gid", field: "Gid", want: "10\t10\t10\t10"},
		{name: "bounding set", change: "bounding", field: "CapBnd"},
		{name: "ambient set", change: "ambient", field: "CapAmb"},
		{name: "securebits", change: "securebits", field: "CapEff", want: "0000000000000000"},
		{name: "umask", change: "umask", field: "Umask", want: "0077"},
		{name: "RLIMIT_NOFILE", change: "rlimit-nofile", field: "rlimit 7", want: "77 77 <nil>"},
		{name: "RLIMIT_MSGQUEUE", change: "rlimit-msgqueue", field: "rlimit 12", want: "4096 4096 <nil>"},
		{name: "nice", change: "nice", field: "priority"},
		{name: "scheduling policy", change: "sched", field: "sched", want: "policy 3 flags 0 priority 0"},
		{name: "oom_score_adj", change: "oom_score_adj", field: "oom_score_adj", want: "500"},
		{name: "ignored signal", change: "sighup", field: "SigIgn"},
		{name: "signal mask", change: "sigmask", field: "SigBlk"},
		{name: "LD_PRELOAD", change: "preload", arg: preload, field: "timerslack", want: "7777 <nil>"},
		{name: "personality", change: "personality", field: "personality"},
		{name: "CPU affinity", change: "affinity", field: "Cpus_allowed_list", want: "0",
			arg: func(t *testing.T) string {
				if runtime.NumCPU() < 2 {
					testutil.Unavailable(t, "needs two CPUs, has %d", runtime.NumCPU())
				}
				return ""
			}},
		{name: "I/O priority", change: "ioprio", field: "ioprio"},
		{name: "timer slack", change: "timerslack", field: "timerslack", want: "123456 <nil>"},
		{name: "session keyring", change: "keyring", field: "session keyring"},
		{name: "memory policy", change: "mempolicy", field: "mempolicy"},
		{name: "process group", change: "pgid", field: "session"},
		{name: "login UID", change: "loginuid", field: "loginuid", want: "4242"},
		{name: "THP disabled", change: "thp", field: "THP_enabled", want: "0"},
		// Package early makes the program non-dumpable before it joins
		// a user namespace; execve makes a child dumpable again.
		{name: "dumpable", change: "none", field: "dumpable", want: "1 <nil>",
			env: func(t *testing.T) []string {
				pid := testutil.Holder(t, []string{"--user", "--map-root-user"}, "true")
				return []string{"gons_user=/proc/" + strconv.Itoa(pid) + "/ns/user"}
			}},
		{name: "cgroup", change: "cgroup", arg: newCgroup, field: "cgroup"},
		{name: "root", change: "root", field: "root",
			arg: func(t *testing.T) string { return t.TempDir() },
			wrap: func(t *testing.T) []string {
				return []string{testutil.RequireTool(t, "unshare"), "--mount", "--propagation", "private"}
			}},
	}
	for _, typ := range []string{"cgroup", "ipc", "mnt", "net", "time", "uts"} {
		rows = append(rows, row{name: typ + " namespace", change: "namespace", field: "ns " + typ,
			arg: func(*testing.T) string { return typ }})
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			var arg string
			var wrap, env []string
			if r.arg != nil {
				arg = r.arg(t)
			}
			without := base
			if r.wrap != nil {
				wrap = r.wrap(t)
				without = runInherit(t, bin, wrap, nil, "none", "")
			}
			if r.env != nil {
				env = r.env(t)
			}
			o := runInherit(t, bin, wrap, env, r.change, arg)
			got := o.Exec[r.field]
			switch {
			case r.want != "" && got != r.want:
				t.Errorf("the exec'd child has %s %q, want %q", r.field, got, r.want)
			case r.want == "" && got == without.Exec[r.field]:
				t.Errorf("the exec'd child has %s %q, as without the change", r.field, got)
			}
			if d := cmp.Diff(o.Exec, o.Fork); d != "" {
				t.Errorf("exec'd child (-) and first child (+) differ:\n%s", d)
			}
			if o.Forked {
				t.Error("the fork server started the first child: the call must go through exec")
			}
		})
	}
}

// preload builds a library whose constructor sets the timer slack to
// 7777 ns: it runs in a child when the loader preloads it.
func preload(t *testing.T) string {
	gcc := testutil.RequireTool(t, "gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "preload.c")
	err := os.WriteFile(src, []byte(`#include <sys/prctl.h>
__attribute__((constructor)) static void slack(void) { prctl(PR_SET_TIMERSLACK, 7777, 0, 0, 0); }
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	so := filepath.Join(dir, "preload.so")
	if out, err := exec.Command(gcc, "-shared", "-fPIC", "-o", so, src).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return so
}

// newCgroup makes a cgroup in the cgroup2 hierarchy, removed when the
// test ends, and returns its directory.
func newCgroup(t *testing.T) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var root string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		// ... mount point (5th) ... " - " fstype source options
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && root == "" {
				root = fields[4]
			}
		}
	}
	if root == "" {
		testutil.Unavailable(t, "no cgroup2 hierarchy is mounted")
	}
	dir := filepath.Join(root, "gons-inherit-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		testutil.Unavailable(t, "cannot make a cgroup: %v", err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	return dir
}
