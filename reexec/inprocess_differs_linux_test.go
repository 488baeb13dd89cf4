package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/nsthread"
	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// The rows of package nsthread's table "What a call shares with a child"
// where a thread call and a child differ: each test runs the same action
// in a child (Func.Run) and on a thread (Func.Run with InProcess, or
// nsthread itself where InProcess keeps the call in a child), and checks
// the documented outcome of each.

// differsParam says what the action differs does.
type differsParam struct {
	What  string // proc, goroutine, memory, exit, kill
	Token string // memory: what to leave behind
	Code  int    // exit: the status
}

// differsSeen is what it reports.
type differsSeen struct {
	PID           int
	TID           int
	Self          string // the link /proc/self
	SelfUTS       string // /proc/self/ns/uts
	ThreadUTS     string // /proc/thread-self/ns/uts
	Hostname      string
	GoroutineUTS  string // /proc/thread-self/ns/uts of a goroutine it started
	GoroutineHost string
	FD            int // a memfd it left open
}

// differsMemory is what the action leaves in its process's memory.
var differsMemory string

var differs = reexec.RegisterFunc("inprocess-differs", func(p differsParam) (differsSeen, error) {
	s := differsSeen{PID: os.Getpid(), TID: unix.Gettid()}
	var err error
	switch p.What {
	case "proc":
		s.Self, _ = os.Readlink("/proc/self")
		s.SelfUTS, _ = os.Readlink("/proc/self/ns/uts")
		s.ThreadUTS, _ = os.Readlink("/proc/thread-self/ns/uts")
		s.Hostname, err = os.Hostname()
	case "goroutine":
		s.ThreadUTS, _ = os.Readlink("/proc/thread-self/ns/uts")
		done := make(chan error)
		go func() {
			var err error
			s.GoroutineUTS, _ = os.Readlink("/proc/thread-self/ns/uts")
			s.GoroutineHost, err = os.Hostname()
			done <- err
		}()
		err = <-done
	case "memory":
		differsMemory = p.Token
		s.FD, err = unix.MemfdCreate(p.Token, unix.MFD_CLOEXEC)
	case "exit":
		os.Exit(p.Code)
	case "kill":
		err = unix.Kill(os.Getpid(), unix.SIGKILL)
	default:
		err = fmt.Errorf("unknown %q", p.What)
	}
	return s, err
})

// differsHolder starts a process in new uts and net namespaces, named
// gons-differs, and returns the options that join both, its PID and its
// uts namespace.
func differsHolder(t *testing.T) (reexec.Option, int, string) {
	t.Helper()
	requireSwitching(t)
	pid := testutil.Holder(t, []string{"--uts", "--net"}, "hostname gons-differs")
	uts, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", pid))
	if err != nil {
		t.Fatal(err)
	}
	return reexec.Target(pid, "uts", "net"), pid, uts
}

// bothWays runs differs with p in a child and in this process, on a
// thread, and fails unless each ran where it should.
func bothWays(t *testing.T, p differsParam, opts ...reexec.Option) (child, thread differsSeen) {
	t.Helper()
	ctx := context.Background()
	child, err := differs.Run(ctx, p, opts...)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	thread, err = differs.Run(ctx, p, append(opts, reexec.InProcess())...)
	if err != nil {
		t.Fatalf("in-process: %v", err)
	}
	if child.PID == os.Getpid() || thread.PID != os.Getpid() {
		t.Fatalf("ran in PID %d and, with InProcess, %d; this process is %d", child.PID, thread.PID, os.Getpid())
	}
	return child, thread
}

// TestDiffersProcSelf: /proc/self is the child in a child, and the
// process's main thread on a thread: in the process's namespaces unless
// the action runs on the main thread itself (as it may when the caller's
// goroutine is there and free); /proc/thread-self and what the kernel
// fills in for the calling thread (the hostname) are the namespaces'
// either way.
func TestDiffersProcSelf(t *testing.T) {
	opt, _, holderUTS := differsHolder(t)
	ownUTS, _ := os.Readlink("/proc/self/ns/uts")
	offMain := false
	for i := 0; i < 20 && !offMain; i++ {
		child, thread := bothWays(t, differsParam{What: "proc"}, opt)
		if child.Self != strconv.Itoa(child.PID) || child.SelfUTS != holderUTS || child.ThreadUTS != holderUTS || child.Hostname != "gons-differs" {
			t.Fatalf("child: %+v; want /proc/self itself, in %s, hostname gons-differs", child, holderUTS)
		}
		mainUTS := ownUTS
		if thread.TID == thread.PID {
			mainUTS = holderUTS // the action ran on the main thread
		}
		offMain = thread.TID != thread.PID
		if thread.Self != strconv.Itoa(os.Getpid()) || thread.SelfUTS != mainUTS || thread.ThreadUTS != holderUTS || thread.Hostname != "gons-differs" {
			t.Fatalf("thread: %+v; want /proc/self this process's main thread, in %s; /proc/thread-self in %s, hostname gons-differs",
				thread, mainUTS, holderUTS)
		}
	}
	if !offMain {
		t.Error("20 in-process calls all ran on the main thread")
	}
	if now, _ := os.Readlink("/proc/self/ns/uts"); now != ownUTS {
		t.Errorf("after the calls /proc/self is in %s, want %s", now, ownUTS)
	}
}

// TestDiffersGoroutines: a goroutine the action starts runs inside the
// namespaces in a child, whose every thread is in them, and outside on a
// thread, as the rest of the process does.
func TestDiffersGoroutines(t *testing.T) {
	opt, _, holderUTS := differsHolder(t)
	ownUTS, _ := os.Readlink("/proc/self/ns/uts")
	ownHost, _ := os.Hostname()
	child, thread := bothWays(t, differsParam{What: "goroutine"}, opt)
	if child.ThreadUTS != holderUTS || child.GoroutineUTS != holderUTS || child.GoroutineHost != "gons-differs" {
		t.Errorf("child: %+v; want the action and its goroutine in %s", child, holderUTS)
	}
	if thread.ThreadUTS != holderUTS || thread.GoroutineUTS != ownUTS || thread.GoroutineHost != ownHost {
		t.Errorf("thread: %+v; want the action in %s, its goroutine in the process's %s, hostname %s", thread, holderUTS, ownUTS, ownHost)
	}
}

// TestDiffersMemory: what the action leaves in memory and its descriptor
// table is the child's own, and gone with it; on a thread the caller has
// both.
func TestDiffersMemory(t *testing.T) {
	opt, _, _ := differsHolder(t)
	differsMemory = ""
	ctx := context.Background()
	child, err := differs.Run(ctx, differsParam{What: "memory", Token: "gons-differs-child"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	link, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", child.FD))
	if differsMemory != "" || strings.Contains(link, "gons-differs-child") {
		t.Errorf("after the child: memory %q, descriptor %d %q; want neither in this process", differsMemory, child.FD, link)
	}
	thread, err := differs.Run(ctx, differsParam{What: "memory", Token: "gons-differs-thread"}, opt, reexec.InProcess())
	if err != nil {
		t.Fatal(err)
	}
	link, _ = os.Readlink(fmt.Sprintf("/proc/self/fd/%d", thread.FD))
	if differsMemory != "gons-differs-thread" || !strings.Contains(link, "memfd:gons-differs-thread") {
		t.Errorf("after the thread: memory %q, descriptor %d %q; want both in this process", differsMemory, thread.FD, link)
	}
	if thread.PID == os.Getpid() && strings.Contains(link, "memfd:") {
		unix.Close(thread.FD)
	}
}

// envDiffersEnd makes TestDiffersEnd, in a process of its own, run the
// action that ends its process on a thread: "exit:PID" or "kill:PID".
const envDiffersEnd = "GONS_TEST_DIFFERS_END"

// TestDiffersEnd: an action that calls os.Exit, or kills its process,
// ends the child, which the caller sees as an error with Op "exit"; on a
// thread it ends the caller, here a process of its own that prints
// nothing after the call.
func TestDiffersEnd(t *testing.T) {
	if arg := os.Getenv(envDiffersEnd); arg != "" {
		what, pid, _ := strings.Cut(arg, ":")
		n, _ := strconv.Atoi(pid)
		_, err := differs.Run(context.Background(), differsParam{What: what, Code: 3}, reexec.Target(n, "uts", "net"), reexec.InProcess())
		fmt.Println("returned:", err)
		return
	}
	opt, pid, _ := differsHolder(t)
	for _, tc := range []struct {
		what   string
		status string // of the child, by exec.ExitError
		code   int    // of the caller's process, -1 for a signal
	}{
		{"exit", "exit status 3", 3},
		{"kill", "signal: killed", -1},
	} {
		t.Run(tc.what, func(t *testing.T) {
			_, err := differs.Run(context.Background(), differsParam{What: tc.what, Code: 3}, opt)
			var e *reexec.Error
			var ee *exec.ExitError
			if !errors.As(err, &e) || e.Op != "exit" || !errors.As(err, &ee) || ee.String() != tc.status {
				t.Errorf("child: %v; want Op exit, %s", err, tc.status)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestDiffersEnd$", "-test.v")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:%d", envDiffersEnd, tc.what, pid))
			out, err := cmd.CombinedOutput()
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code || strings.Contains(string(out), "returned:") {
				t.Errorf("thread: the caller's process ended with %v, code %d; want code %d before the call returned\n%s",
					err, ee.ExitCode(), tc.code, out)
			}
		})
	}
}

// TestDiffersNotThreadJoinable: user, time and pid namespaces a thread
// cannot join; nsthread refuses them, and InProcess keeps such a call in
// a child, which joins them.
func TestDiffersNotThreadJoinable(t *testing.T) {
	requireSwitching(t)
	pid := testutil.Holder(t, []string{"--user", "--map-root-user", "--uts", "--pid", "--time"}, "hostname gons-differs-user")
	path := func(typ string) string { return fmt.Sprintf("/proc/%d/ns/%s", pid, typ) }
	for _, typ := range []string{"user", "time", "pid"} {
		_, err := nsthread.Run(func() (string, error) { return os.Hostname() },
			nsthread.Namespaces([]nsthread.Namespace{{Type: typ, Path: path(typ)}, {Type: "uts", Path: path("uts")}}))
		if !errors.Is(err, nsthread.ErrNotThreadJoinable) {
			t.Errorf("nsthread, %s: %v; want ErrNotThreadJoinable", typ, err)
		}
	}
	opt := reexec.Target(pid, "user", "uts")
	ctx := context.Background()
	for _, o := range [][]reexec.Option{{opt}, {opt, reexec.InProcess()}} {
		s, err := differs.Run(ctx, differsParam{What: "proc"}, o...)
		if err != nil || s.PID == os.Getpid() || s.Hostname != "gons-differs-user" {
			t.Errorf("%d options: %+v, %v; want a child in the holder's namespaces", len(o), s, err)
		}
	}
}

// TestDiffersPathAfterMnt: a namespace file listed after mnt (without
// "!") a child opens inside the mount namespace it joined; nsthread opens
// every path before the first switch, in the caller's, and InProcess
// keeps such a list in a child. The holder's net namespace is bound to a
// file on a tmpfs only its mount namespace shows.
func TestDiffersPathAfterMnt(t *testing.T) {
	requireSwitching(t)
	dir := t.TempDir()
	pid := testutil.Holder(t, []string{"--mount", "--net", "--uts"},
		fmt.Sprintf("hostname gons-differs-mnt\nmount -t tmpfs gons %s\ntouch %s/net\nmount --bind /proc/$$/ns/net %s/net", dir, dir, dir))
	holderNet, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(dir, "net")
	list := []reexec.Namespace{{Type: "mnt", Path: fmt.Sprintf("/proc/%d/ns/mnt", pid)}, {Type: "net", Path: inside}}
	ctx := context.Background()
	for _, o := range [][]reexec.Option{{reexec.Namespaces(list)}, {reexec.Namespaces(list), reexec.InProcess()}} {
		w, err := whereAmI.Run(ctx, dir, o...)
		if err != nil || w.PID == os.Getpid() || w.Net != holderNet {
			t.Errorf("%d options: %+v, %v; want a child in the holder's net namespace %s", len(o), w, err, holderNet)
		}
	}
	tlist := []nsthread.Namespace{nsthread.Namespace(list[0]), nsthread.Namespace(list[1])}
	err = nsthread.Do(func() error { return nil }, nsthread.Namespaces(tlist))
	var e *nsthread.Error
	if !errors.As(err, &e) || e.Op != "open" || e.Path != inside || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("nsthread: %v; want an open error for %s, which the caller's mount namespace lacks", err, inside)
	}
}

// TestDiffersPrivilege: a caller without CAP_SYS_ADMIN (nobody) may not
// join the uts namespace of a user namespace it made: on a thread that
// is EPERM, naming the privilege and the way out, and in a child without
// user the same EPERM; a child that joins the user namespace first (and
// InProcess, which keeps a call with user in a child) has it.
func TestDiffersPrivilege(t *testing.T) {
	if os.Getenv("GONS_TEST_DIFFERS_NOBODY") != "" {
		differsPrivilege(t)
		return
	}
	requireSwitching(t)
	// A copy of the test binary, run as nobody.
	cmd := testutil.AsNobody(t, "-test.run=^TestDiffersPrivilege$", "-test.v")
	cmd.Env = append(cmd.Env, "GONS_TEST_DIFFERS_NOBODY=1")
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", out)
	if err != nil {
		t.Fatalf("as nobody: %v", err)
	}
}

// differsPrivilege is TestDiffersPrivilege as nobody.
func differsPrivilege(t *testing.T) {
	pid := testutil.Holder(t, []string{"--user", "--map-root-user", "--uts"}, "hostname gons-differs-nobody")
	ctx := context.Background()
	// On a thread, by nsthread and by InProcess.
	_, err := nsthread.Run(func() (string, error) { return os.Hostname() }, nsthread.Target(pid, "uts"))
	var ne *nsthread.Error
	if !errors.As(err, &ne) || ne.Op != "setns" || !errors.Is(err, syscall.EPERM) ||
		!strings.Contains(err.Error(), "CAP_SYS_ADMIN") || !strings.Contains(err.Error(), "joining user as well") {
		t.Errorf("nsthread: %v; want EPERM naming CAP_SYS_ADMIN and the child that joins user first", err)
	}
	var se *status.Error
	_, err = differs.Run(ctx, differsParam{What: "proc"}, reexec.Target(pid, "uts"), reexec.InProcess())
	if !errors.As(err, &se) || !errors.Is(err, syscall.EPERM) {
		t.Errorf("in-process: %v; want a switch error that wraps EPERM", err)
	}
	// In a child without user: the same errno.
	_, err = differs.Run(ctx, differsParam{What: "proc"}, reexec.Target(pid, "uts"))
	if !errors.As(err, &se) || !errors.Is(err, syscall.EPERM) {
		t.Errorf("child: %v; want a switch error that wraps EPERM", err)
	}
	// A child that joins user first, with or without InProcess.
	for _, o := range [][]reexec.Option{{reexec.Target(pid, "user", "uts")}, {reexec.Target(pid, "user", "uts"), reexec.InProcess()}} {
		s, err := differs.Run(ctx, differsParam{What: "proc"}, o...)
		if err != nil || s.PID == os.Getpid() || s.Hostname != "gons-differs-nobody" {
			t.Errorf("%d options, with user: %+v, %v; want a child in the holder's namespaces", len(o), s, err)
		}
	}
}
