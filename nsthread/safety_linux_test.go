package nsthread

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
	"github.com/gonsproject/gons/status"
	"golang.org/x/sys/unix"
)

// TestRefused checks that bad options and bad namespace files fail with an
// error that names what is wrong, before anything is switched and before
// the function runs.
func TestRefused(t *testing.T) {
	tests := []struct {
		doc  string
		opt  Option
		op   string
		is   []error
		text string
	}{
		{"user", Namespaces([]Namespace{{Type: "user", Path: "/proc/self/ns/user"}}), "parse", []error{ErrNotThreadJoinable}, "reexec"},
		{"user by pid", Target(1, "user"), "parse", []error{ErrNotThreadJoinable}, "user"},
		{"empty dir", Dir(""), "parse", []error{status.ErrSyntax}, "directory"},
		{"time", Namespaces([]Namespace{{Type: "!time", Path: "/proc/self/ns/time"}}), "parse", []error{ErrNotThreadJoinable}, "time"},
		{"pid", Namespaces([]Namespace{{Type: "pid", Path: "/proc/self/ns/pid"}}), "parse", []error{ErrNotThreadJoinable}, "pid"},
		{"unknown", Namespaces([]Namespace{{Type: "nett", Path: "/proc/self/ns/net"}}), "parse", []error{status.ErrUnknownType}, `"nett"`},
		{"duplicate", Namespaces([]Namespace{{Type: "net", Path: "/proc/self/ns/net"}, {Type: "!net", Path: "/proc/self/ns/net"}}), "parse", []error{status.ErrDuplicate}, "net"},
		{"empty path", Namespaces([]Namespace{{Type: "uts"}}), "parse", []error{status.ErrSyntax}, "uts"},
		{"no pid", Target(0), "parse", nil, "pid 0"},
		{"bad pidfd", TargetPidfd(-1), "parse", nil, "pidfd -1"},
		{"missing", Namespaces([]Namespace{{Type: "net", Path: "/nonexistent/net"}}), "open", []error{unix.ENOENT}, "/nonexistent/net"},
		{"not a namespace", Namespaces([]Namespace{{Type: "net", Path: "/proc/self/status"}}), "check", []error{unix.ENOTTY}, "not a namespace file"},
		{"wrong type", Namespaces([]Namespace{
			{Type: "uts", Path: "/proc/self/ns/uts"},
			{Type: "net", Path: "/proc/self/ns/ipc"},
		}), "check", []error{status.ErrWrongType, unix.EINVAL}, "namespace type ipc, not net"},
	}
	for _, tc := range tests {
		t.Run(tc.doc, func(t *testing.T) {
			called := false
			err := Do(func() error { called = true; return nil }, tc.opt)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if e.Op != tc.op || e.Discarded {
				t.Errorf("Op %q, Discarded %v; want %q, false", e.Op, e.Discarded, tc.op)
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("%v is not %v", err, target)
				}
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%q does not say %q", err, tc.text)
			}
			if called {
				t.Error("the function ran")
			}
		})
	}
	t.Run("conflict", func(t *testing.T) {
		err := Do(func() error { return nil }, Target(1), Namespaces([]Namespace{{Type: "net", Path: "/proc/self/ns/net"}}))
		if !errors.Is(err, status.ErrConflict) {
			t.Errorf("got %v, want ErrConflict", err)
		}
	})
	t.Run("gone", func(t *testing.T) {
		testutil.RequireRoot(t)
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		err := Do(func() error { return nil }, Target(cmd.Process.Pid))
		var e *Error
		if !errors.As(err, &e) || e.Op != "target" || !errors.Is(err, unix.ESRCH) {
			t.Errorf("got %v, want a target error wrapping ESRCH", err)
		}
	})
}

// TestResults checks that the function's result and error come back as
// they are.
func TestResults(t *testing.T) {
	pid := holder(t, "gons-results")
	errMine := errors.New("mine")
	r, err := Run(func() ([]string, error) { return []string{"a", "b"}, fmt.Errorf("wrapped: %w", errMine) }, Target(pid, "net"))
	if !errors.Is(err, errMine) || len(r) != 2 {
		t.Errorf("got %q, %v; want the function's result and error", r, err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Errorf("the function's error came as an *Error: %v", err)
	}
}

// callers are the two ways a call runs: on the caller's goroutine when it
// is free to move between threads, on a fresh goroutine when the caller is
// locked to its thread.
var callers = []struct {
	name   string
	locked bool
}{{"free", false}, {"locked", true}}

// asCaller runs f on a new goroutine, locked to its thread first when
// locked is set, and waits until the goroutine has ended, by returning or
// by runtime.Goexit. It reports whether f returned. A locked goroutine
// that is still locked once f has returned unlocks its own lock, so that
// its thread lives on unless the call kept a lock of its own.
func asCaller(locked bool, f func()) (returned bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if locked {
			runtime.LockOSThread()
		}
		f()
		returned = true
		if locked {
			runtime.UnlockOSThread()
		}
	}()
	<-done
	return returned
}

// TestPanic makes the function panic, and call runtime.Goexit: the thread
// is discarded, the error says so, and the next calls work. A free caller
// the function ran on stays locked to the thread, back in the process's
// namespaces, and the thread ends with it; a Goexit ends that caller, as
// it would without the call.
func TestPanic(t *testing.T) {
	pid := holder(t, "gons-panic")
	errBoom := errors.New("boom")
	for _, c := range callers {
		for _, tc := range []struct {
			doc  string
			fn   func()
			is   error
			text string
		}{
			{"panic", func() { panic(errBoom) }, errBoom, "boom"},
			{"goexit", runtime.Goexit, nil, "Goexit"},
		} {
			t.Run(c.name+"/"+tc.doc, func(t *testing.T) {
				var (
					tid, caller  int
					err          error
					stayedLocked bool
					ns           map[string]string
				)
				returned := asCaller(c.locked, func() {
					if c.locked {
						caller = unix.Gettid()
					} else {
						// A free caller may move between threads until
						// the call locks it; after the call it stays
						// locked, so its thread is known once the call
						// returned, or Goexit unwinds it.
						defer func() { caller = unix.Gettid() }()
					}
					_, err = Run(func() (int, error) {
						tid = unix.Gettid()
						tc.fn()
						return 1, nil
					}, Target(pid))
					stayedLocked, ns = lockedOSThread(), nsOf("/proc/thread-self")
				})
				if !c.locked && tid != caller {
					t.Fatalf("a free caller's call ran on thread %d, not on the caller's %d", tid, caller)
				}
				if c.locked && tid == caller {
					t.Fatalf("a locked caller's call ran on its thread %d", tid)
				}
				threadEnds(t, tid)
				if !c.locked && tc.is == nil {
					if returned {
						t.Fatalf("Goexit on a free caller's goroutine returned %v", err)
					}
					return
				}
				if !returned {
					t.Fatal("the caller did not return")
				}
				if !c.locked && (!stayedLocked || !maps.Equal(ns, original)) {
					t.Errorf("after the panic the caller is locked %v, in %v; want locked, in %v", stayedLocked, ns, original)
				}
				var e *Error
				var p *PanicError
				if !errors.As(err, &e) || e.Op != "panic" || !errors.As(err, &p) {
					t.Fatalf("got %v, want a panic *Error", err)
				}
				if !errors.Is(err, ErrThreadDiscarded) || !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), tc.text) {
					t.Errorf("%v: want ErrThreadDiscarded, ErrPanic and %q", err, tc.text)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("%v is not %v", err, tc.is)
				}
				if p.Goexit != (tc.is == nil) || len(p.Stack) == 0 {
					t.Errorf("Goexit %v, %d bytes of stack", p.Goexit, len(p.Stack))
				}
				next, err := Run(look, Target(pid))
				if err != nil || next.Hostname != "gons-panic" {
					t.Errorf("next call: %+v, %v", next, err)
				}
			})
		}
	}
}

// TestRestoreFails makes switching back fail through the test hook: the
// error says which type and that the thread was discarded, the result is
// still the function's, the thread ends (with a free caller, which stays
// locked to it until it ends), and the next calls work.
func TestRestoreFails(t *testing.T) {
	pid := holder(t, "gons-restore")
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			var restored []string
			testHookRestore = func(typ string) error {
				restored = append(restored, typ)
				if typ == "net" {
					return unix.EPERM
				}
				return nil
			}
			defer func() { testHookRestore = nil }()
			var (
				tid, r       int
				err          error
				stayedLocked bool
			)
			asCaller(c.locked, func() {
				r, err = Run(func() (int, error) { tid = unix.Gettid(); return 42, nil },
					Namespaces([]Namespace{
						{Type: "uts", Path: fmt.Sprintf("/proc/%d/ns/uts", pid)},
						{Type: "net", Path: fmt.Sprintf("/proc/%d/ns/net", pid)},
						{Type: "ipc", Path: fmt.Sprintf("/proc/%d/ns/ipc", pid)},
					}))
				stayedLocked = lockedOSThread()
			})
			testHookRestore = nil
			if r != 42 {
				t.Errorf("result %d, want the function's 42", r)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != "restore" || e.Type != "net" || !errors.Is(err, unix.EPERM) || !errors.Is(err, ErrThreadDiscarded) {
				t.Fatalf("got %v, want a restore net error, EPERM, thread discarded", err)
			}
			if want := "ipc,net"; strings.Join(restored, ",") != want {
				t.Errorf("switched back %q, want %q: reverse order, stopping at the failure", restored, want)
			}
			if !c.locked && !stayedLocked {
				t.Error("a free caller left on a thread that could not be switched back is not locked to it")
			}
			threadEnds(t, tid)
			next, err := Run(look, Target(pid, "uts"))
			if err != nil || next.Hostname != "gons-restore" {
				t.Errorf("next call: %+v, %v", next, err)
			}
		})
	}
}

// TestFreeCaller checks that a call from a goroutine free to move leaves
// it as free as it was, on a thread in the process's namespaces. That the
// function runs on the caller's thread TestPanic checks.
func TestFreeCaller(t *testing.T) {
	pid := holder(t, "gons-free")
	asCaller(false, func() {
		s, err := Run(look, Target(pid))
		if err != nil || s.Hostname != "gons-free" {
			t.Errorf("got %+v, %v", s, err)
		}
		if lockedOSThread() {
			t.Error("the caller is locked to its thread after the call")
		}
		if ns := nsOf("/proc/thread-self"); !maps.Equal(ns, original) {
			t.Errorf("the caller's thread is in %v after the call, want %v", ns, original)
		}
	})
}

// TestLockedCaller calls from a goroutine locked to a thread that joined a
// holder's uts namespace itself: the function runs on another thread, and
// the caller's thread keeps its namespace.
func TestLockedCaller(t *testing.T) {
	pid := holder(t, "gons-locked")
	other := holder(t, "gons-other")
	done := make(chan error)
	// This thread is in another namespace and ends with the goroutine.
	go testutil.OnDiscardedThread(func() {
		done <- func() error {
			fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/uts", other), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			err = unix.Setns(fd, unix.CLONE_NEWUTS)
			unix.Close(fd)
			if err != nil {
				return err
			}
			caller := unix.Gettid()
			s, err := Run(func() (seen, error) {
				if unix.Gettid() == caller {
					return seen{}, errors.New("ran on the caller's thread")
				}
				return look()
			}, Target(pid, "net"))
			if err != nil {
				return err
			}
			if s.Hostname == "gons-other" || s.Hostname == "gons-locked" {
				return fmt.Errorf("the function saw hostname %q, not the process's", s.Hostname)
			}
			if h, _ := os.Hostname(); h != "gons-other" {
				return fmt.Errorf("the caller's thread has hostname %q after the call, want gons-other", h)
			}
			return nil
		}()
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestGoroutinesRunElsewhere shows the trap: a goroutine the function
// starts runs in the process's namespaces.
func TestGoroutinesRunElsewhere(t *testing.T) {
	pid := holder(t, "gons-elsewhere")
	type pair struct{ fn, goroutine string }
	p, err := Run(func() (pair, error) {
		var g string
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); g, _ = os.Hostname() }()
		wg.Wait()
		h, err := os.Hostname()
		return pair{h, g}, err
	}, Target(pid, "uts"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.Hostname()
	if p.fn != "gons-elsewhere" || p.goroutine != want {
		t.Errorf("function saw %q, its goroutine %q; want gons-elsewhere, %q", p.fn, p.goroutine, want)
	}
}

// envReuse makes the test binary run reuseChild, as PID 1 of a fresh PID
// namespace.
const envReuse = "GONS_NSTHREAD_TEST_REUSE"

// TestReusedPID makes the kernel give the PID of a holder that ended to
// another process, in a fresh PID namespace where nothing else takes
// PIDs, and checks that neither a pidfd taken before nor one taken by
// Target before the reuse joins the newcomer.
func TestReusedPID(t *testing.T) {
	requireNS(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envReuse+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if testutil.NotSupported(err) {
			testutil.Unavailable(t, "a PID namespace: %v", err)
		}
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "reuse: ok") {
		t.Fatalf("the child did not get through:\n%s", out)
	}
}

// reuseChild runs as PID 1 of a fresh PID namespace. It returns the exit
// status: 0 when a reused PID was never joined.
func reuseChild() int {
	err := reuse()
	for attempt := 1; attempt < 5 && errors.Is(err, errPIDTaken); attempt++ {
		err = reuse()
	}
	if err != nil {
		fmt.Println("reuse:", err)
		return 1
	}
	fmt.Println("reuse: ok")
	return 0
}

// errPIDTaken: another process or thread of this namespace, such as a
// thread the Go runtime started, took the PID meant to be reused; the
// scenario starts again with a new PID.
var errPIDTaken = errors.New("the PID was taken meanwhile")

// sleeper is a process in a fresh uts namespace with hostname name.
type sleeper struct{ cmd *exec.Cmd }

func startSleeper(name string, pid int) (*sleeper, error) {
	if pid > 0 {
		// The next PID the kernel hands out in this namespace is pid.
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command("sh", "-c", "hostname "+name+"; echo ready; exec sleep infinity")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUTS}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := make([]byte, 6)
	if _, err := out.Read(b); err != nil || string(b) != "ready\n" {
		return nil, fmt.Errorf("%s did not start: %q %v", name, b, err)
	}
	if pid > 0 && cmd.Process.Pid != pid {
		(&sleeper{cmd}).end()
		return nil, fmt.Errorf("%s got PID %d, not the reused %d: %w", name, cmd.Process.Pid, pid, errPIDTaken)
	}
	return &sleeper{cmd}, nil
}

func (s *sleeper) end() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

func reuse() error {
	hostname := func() (string, error) { return os.Hostname() }
	first, err := startSleeper("first", 0)
	if err != nil {
		return err
	}
	pid := first.cmd.Process.Pid
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	if h, err := Run(hostname, TargetPidfd(pidfd)); h != "first" || err != nil {
		return fmt.Errorf("before the reuse: %q, %v", h, err)
	}
	first.end()
	second, err := startSleeper("second", pid)
	if err != nil {
		return err
	}
	defer func() {
		if second != nil {
			second.end()
		}
	}()
	if h, err := Run(hostname, TargetPidfd(pidfd)); !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("the pidfd of the first process, after the reuse: %q, %v; want ESRCH", h, err)
	}
	// Target opens its pidfd when the call starts: it joins whoever has
	// the PID then, but not a process that takes it during the call.
	if h, err := Run(hostname, Target(pid)); h != "second" || err != nil {
		return fmt.Errorf("Target after the reuse: %q, %v; want the second process", h, err)
	}
	var herr error
	testHookTarget = func(int) {
		second.end()
		second, herr = startSleeper("third", pid)
	}
	h, err := Run(hostname, Target(pid))
	testHookTarget = nil
	if herr != nil {
		return herr
	}
	if !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("Target with the PID reused during the call: %q, %v; want ESRCH", h, err)
	}
	return nil
}
