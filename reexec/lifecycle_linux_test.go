package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

var (
	// appendTo appends its call's number, a line, to the file named in
	// the parameter: a record of how often each call's action ran.
	appendTo = reexec.RegisterFunc("append-to", func(p appendParam) (struct{}, error) {
		f, err := os.OpenFile(p.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return struct{}{}, err
		}
		defer f.Close()
		_, err = fmt.Fprintln(f, p.Call)
		return struct{}{}, err
	})
	// waitFor says "ready" on its standard error, then waits until the
	// file named in the parameter exists.
	waitFor = reexec.RegisterFunc("wait-for", func(path string) (struct{}, error) {
		fmt.Fprintln(os.Stderr, "ready")
		for {
			if _, err := os.Stat(path); err == nil {
				return struct{}{}, nil
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
)

type appendParam struct {
	Path string
	Call int
}

func init() {
	reexec.Register("print-netns", func() {
		l, _ := os.Readlink("/proc/self/ns/net")
		fmt.Println(l)
	})
}

// inChild reports whether the test runs in the copy of the test binary
// that runs it alone; otherwise it runs that copy, with the extra clone
// flags, and reports its failure. For tests that leave the process in a
// state other tests must not see (the fork server stopped or given up).
func inChild(t *testing.T, cloneflags uintptr) bool {
	t.Helper()
	if os.Getenv("GONS_TEST_CHILD") == t.Name() {
		return true
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "GONS_TEST_CHILD="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags} // SysProcAttr: unix has none
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the copy did not pass the test:\n%s", out)
	}
	return false
}

// ranCalls returns how often each call's action appended to path.
func ranCalls(t *testing.T, path string) map[int]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	ran := map[int]int{}
	for _, l := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("%s holds %q", path, b)
		}
		ran[n]++
	}
	return ran
}

// processGone reports whether process pid is no more: neither running
// nor a zombie.
func processGone(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return errors.Is(err, os.ErrNotExist)
}

// TestServerStopped stops the fork server (SIGSTOP) and makes four calls
// with deadlines of 300 ms: each ends with its context (Op "context",
// context.DeadlineExceeded), the server still in use, and the action of
// none runs. A server that resumes then forks the child of the first
// call, which is killed and reaped unseen, and serves the next call; one
// that stays stopped is given up at the hop's bound, killed and reaped,
// and the next call runs its action by exec. No child is left behind.
func TestServerStopped(t *testing.T) {
	for _, resume := range []bool{true, false} {
		name := map[bool]string{true: "resumed", false: "given-up"}[resume]
		t.Run(name, func(t *testing.T) {
			if inChild(t, 0) {
				serverStopped(t, resume)
			}
		})
	}
}

func serverStopped(t *testing.T, resume bool) {
	server := spawn.PID()
	if server == 0 {
		testutil.Unavailable(t, "the test binary has no fork server")
	}
	// Resumed, the bound is never reached; given up, it is reached
	// sooner than 10 s, for the test's sake.
	spawn.HopBound = map[bool]time.Duration{true: time.Hour, false: 2 * time.Second}[resume]
	path := filepath.Join(t.TempDir(), "ran")
	if err := unix.Kill(server, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, errs[i] = appendTo.Run(ctx, appendParam{path, i})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var e *reexec.Error
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &e) || e.Op != "context" {
			t.Errorf("call %d: %v, want a context error wrapping context.DeadlineExceeded", i, err)
		}
	}
	if spawn.PID() != server {
		t.Fatalf("the calls returned once the server was given up, not with their contexts")
	}
	spawned := spawn.Spawned()
	if resume {
		if err := unix.Kill(server, unix.SIGCONT); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := appendTo.Run(context.Background(), appendParam{path, 4}); err != nil {
		t.Fatal(err)
	}
	if resume {
		// The child of the first call's request, and this one's.
		if n := spawn.Spawned() - spawned; n != 2 || spawn.PID() != server {
			t.Errorf("the resumed server %d started %d children, want 2 (server now: %d)", server, n, spawn.PID())
		}
	} else {
		if spawn.Spawned() != spawned || spawn.PID() != 0 {
			t.Errorf("the stopped server %d is still asked", server)
		}
		if !settle(func() bool { return processGone(server) }) {
			t.Errorf("the stopped server %d is not reaped", server)
		}
	}
	if !settle(func() bool { return len(notServer(children(t))) == 0 }) {
		t.Errorf("children left behind: %v", notServer(children(t)))
	}
	if ran := ranCalls(t, path); !maps1(ran, 4) {
		t.Errorf("the actions ran %v times (call: times), want call 4 once and no other", ran)
	}
}

// maps1 reports whether ran holds call once and nothing else.
func maps1(ran map[int]int, call int) bool { return len(ran) == 1 && ran[call] == 1 }

// TestReaperPIDReuse gives up a fork server that a wait for any child
// (Wait4(-1), as a reaper goroutine does) reaped and whose PID another
// process then took, through ns_last_pid in a fresh PID namespace: the
// call execs, and the other process lives on.
func TestReaperPIDReuse(t *testing.T) {
	testutil.RequireRoot(t)
	if !inChild(t, unix.CLONE_NEWPID|unix.CLONE_NEWNS) {
		return
	}
	// A /proc of this PID namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("proc", "/proc", "proc", 0, ""); err != nil {
		t.Fatal(err)
	}
	server := spawn.PID()
	if server == 0 {
		testutil.Unavailable(t, "the test binary has no fork server")
	}
	reaped := make(chan int)
	go func() {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		for err == unix.EINTR {
			pid, err = unix.Wait4(-1, &ws, 0, nil)
		}
		reaped <- pid
	}()
	if err := unix.Kill(server, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if pid := <-reaped; pid != server {
		t.Fatalf("the reaper reaped %d, want the server %d", pid, server)
	}
	other := testutil.ReusePID(t, server)
	if _, err := echo.Run(context.Background(), payload{N: 1}); err != nil {
		t.Fatal(err)
	}
	if err := other.Process.Signal(unix.Signal(0)); err != nil {
		t.Fatalf("the process %d that took the server's PID: %v", server, err)
	}
	other.Process.Kill()
	if err := other.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the process %d that took the server's PID ended with %v, want killed here", server, err)
	}
}

// endLockedThreads ends n threads: each locked by a goroutine that then
// exits, as a goroutine of nsthread that discards its thread does. It
// returns once they are gone; the process's first thread, which the
// runtime never ends, is parked instead.
func endLockedThreads(t *testing.T, n int) {
	t.Helper()
	tids := make(chan int, n)
	for range n {
		go func() {
			runtime.LockOSThread()
			tids <- unix.Gettid()
		}()
	}
	for range n {
		tid := <-tids
		if tid == unix.Getpid() {
			continue
		}
		if !settle(func() bool { return processGone(tid) && !slices.Contains(threads(), tid) }) {
			t.Fatalf("thread %d did not end", tid)
		}
	}
}

// threads lists this process's threads.
func threads() []int {
	ents, _ := os.ReadDir("/proc/self/task")
	var tids []int
	for _, e := range ents {
		n, _ := strconv.Atoi(e.Name())
		tids = append(tids, n)
	}
	return tids
}

// TestThreadsEndChildrenLive runs four actions from goroutines, then
// ends 100 locked threads: each child lives on, and its run succeeds. A
// child of the fork server is a child of the program's first thread,
// which the runtime never ends; an exec'd one, of a starter thread.
func TestThreadsEndChildrenLive(t *testing.T) { forEachPath(t, threadsEndChildrenLive) }

func threadsEndChildrenLive(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "go")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs, ready := make(chan error, 4), make(chan struct{}, 4)
	for range 4 {
		go func() {
			var once sync.Once
			said := &cancelOn{word: "ready", cancel: func() { once.Do(func() { ready <- struct{}{} }) }}
			_, err := waitFor.Run(ctx, gate, reexec.Stderr(said))
			errs <- err
		}()
	}
	for range 4 {
		select {
		case <-ready:
		case err := <-errs:
			t.Fatalf("a child ended before it was ready: %v", err)
		}
	}
	endLockedThreads(t, 100)
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("a child's run: %v", err)
		}
	}
}

// TestThreadsEndCommandsLive starts four commands from goroutines, then
// ends 100 locked threads: each command lives on and exits with success
// once its standard input ends. Before, the parent-death signal killed a
// command whose starting thread, back in the runtime's pool after Start,
// happened to be one of them.
func TestThreadsEndCommandsLive(t *testing.T) {
	cmds := make([]*reexec.Cmd, 4)
	ins := make([]io.WriteCloser, 4)
	var wg sync.WaitGroup
	for i := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The parent-death signal is set once Start returns.
			cmd := reexec.Command(context.Background(), "cat-args", []string{strconv.Itoa(i)})
			in, err := cmd.StdinPipe()
			if err == nil {
				err = cmd.Start()
			}
			if err != nil {
				t.Errorf("command %d: %v", i, err)
				return
			}
			cmds[i], ins[i] = cmd, in
		}()
	}
	wg.Wait()
	endLockedThreads(t, 100)
	if t.Failed() {
		return
	}
	for i, cmd := range cmds {
		ins[i].Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("command %d: %v", i, err)
		}
	}
}

// TestLockedCallerThread starts commands from a goroutine locked to a
// thread in a network namespace of its own: the child starts from that
// thread, in its namespace, and, as documented, dies when the thread
// ends.
func TestLockedCallerThread(t *testing.T) {
	testutil.RequireRoot(t)
	type result struct {
		netns, childNetns string
		cmd               *reexec.Cmd
		err               error
	}
	done := make(chan result)
	go testutil.OnDiscardedThread(func() { // the thread is discarded
		var r result
		defer func() { done <- r }()
		if r.err = unix.Unshare(unix.CLONE_NEWNET); r.err != nil {
			return
		}
		r.netns, _ = os.Readlink(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		out, err := reexec.Command(context.Background(), "print-netns", nil).Output()
		if r.err = err; err != nil {
			return
		}
		r.childNetns = strings.TrimSpace(string(out))
		r.cmd = reexec.Command(context.Background(), "sleep-plain", nil)
		r.err = r.cmd.Start()
	})
	r := <-done
	if testutil.NotSupported(r.err) {
		testutil.Unavailable(t, "unshare(CLONE_NEWNET): %v", r.err)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.childNetns != r.netns {
		t.Errorf("the child is in %s, want the calling thread's %s", r.childNetns, r.netns)
	}
	err := r.cmd.Wait()
	if err == nil || !strings.Contains(err.Error(), "signal: killed") {
		t.Errorf("the child of the ended thread: %v, want killed", err)
	}
}

// TestCommandEmbeddedStart calls Start, Run, Output and CombinedOutput
// on the exec.Cmd embedded in a Cmd, a misuse: each fails at once with
// ErrEmbeddedStart, and no child starts.
func TestCommandEmbeddedStart(t *testing.T) {
	for name, call := range map[string]func(c *exec.Cmd) error{
		"Start":          (*exec.Cmd).Start,
		"Run":            (*exec.Cmd).Run,
		"Output":         func(c *exec.Cmd) error { _, err := c.Output(); return err },
		"CombinedOutput": func(c *exec.Cmd) error { _, err := c.CombinedOutput(); return err },
	} {
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			// A child that never learns what to run waits for this
			// context to end.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := reexec.Command(ctx, "cat-args", nil)
			err := call(cmd.Cmd)
			if !errors.Is(err, reexec.ErrEmbeddedStart) || cmd.Process != nil || ctx.Err() != nil {
				t.Fatalf("got %v with process %v (context: %v), want ErrEmbeddedStart at once and no child",
					err, cmd.Process, ctx.Err())
			}
			// The Cmd is spent; its Start says so, and closes what the
			// child was to inherit.
			if err := cmd.Start(); err == nil || cmd.Process != nil {
				t.Fatalf("Start after the misuse: %v with process %v, want an error and no child", err, cmd.Process)
			}
		})
	}
}
