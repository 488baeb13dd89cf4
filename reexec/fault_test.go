package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonsproject/gons/internal/preinit"
	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// Every faulty action first writes a marker to standard error, which the
// error must carry.

func init() {
	reexec.Register("exit3", func() {
		fmt.Fprint(os.Stderr, "marker:exit3")
		os.Exit(3)
	})
	reexec.Register("sigkill", func() {
		fmt.Fprint(os.Stderr, "marker:sigkill")
		// os.Process rather than syscall.Kill: this file builds on every
		// system, for vet.
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill()
		}
		time.Sleep(time.Hour)
	})
	reexec.Register("notjson", func() {
		fmt.Fprint(os.Stderr, "marker:notjson")
		fmt.Println("this is not JSON")
	})
	reexec.Register("silent", func() {
		fmt.Fprint(os.Stderr, "marker:silent")
	})
	reexec.Register("loud", func() {
		fmt.Fprint(os.Stderr, strings.Repeat("x", 100<<10)+"marker:loud")
		os.Exit(1)
	})
	reexec.Register("plainexit0", func() {
		fmt.Fprint(os.Stderr, "marker:plainexit0")
		fmt.Println(42)
		os.Exit(0)
	})
}

type strictParam struct {
	A int `json:"a"`
}

var (
	failErrno = reexec.RegisterFunc("failerrno", func(struct{}) (int, error) {
		fmt.Fprint(os.Stderr, "marker:failerrno")
		return 0, fmt.Errorf("opening the thing: %w", syscall.ENOENT)
	})
	panics = reexec.RegisterFunc("panics", func(struct{}) (int, error) {
		fmt.Fprint(os.Stderr, "marker:panics")
		panic("kaboom")
	})
	exitsEarly = reexec.RegisterFunc("exitsearly", func(struct{}) (int, error) {
		fmt.Fprint(os.Stderr, "marker:exitsearly")
		os.Exit(0)
		return 0, nil
	})
	strict = reexec.RegisterFunc("strict", func(p strictParam) (strictParam, error) {
		fmt.Fprint(os.Stderr, "marker:strict")
		return p, nil
	})
	// sleeper says "ready" on standard error, then waits to be killed.
	sleeper = reexec.RegisterFunc("sleeper", func(struct{}) (int, error) {
		fmt.Fprintln(os.Stderr, "marker:sleeper ready")
		time.Sleep(time.Hour)
		return 0, nil
	})
)

// cancelOn is a writer that calls cancel once it has seen word.
type cancelOn struct {
	mu     sync.Mutex
	seen   strings.Builder
	word   string
	cancel func()
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen.Write(p)
	if strings.Contains(c.seen.String(), c.word) {
		c.cancel()
	}
	return len(p), nil
}

// runSleeperCancelled starts the sleeper, cancels the context once the
// child says it is ready, and returns the error.
func runSleeperCancelled(opts ...reexec.Option) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts = append(opts, reexec.Stderr(&cancelOn{word: "ready", cancel: cancel}))
	_, err := sleeper.Run(ctx, struct{}{}, opts...)
	return err
}

func TestFaults(t *testing.T) {
	var (
		res       int
		strictRes struct {
			B int `json:"b"`
		}
	)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()

	runFaults(t, nil, []fault{
		{
			doc: "unknown action",
			run: func() error { return reexec.RunReexecAction("no-such-action") },
			op:  "start", is: reexec.ErrUnknownAction, msg: `reexec "no-such-action": start: unknown action`,
		},
		{
			doc: "start failure",
			run: func() error {
				// One string over MAX_ARG_STRLEN (32 pages): execve fails.
				return reexec.RunReexecAction("silent", reexec.Environment([]string{"BIG=" + strings.Repeat("x", 200<<10)}))
			},
			op: "start", is: syscall.E2BIG, msg: "argument list too long",
		},
		{
			doc: "unknown namespace type",
			run: func() error {
				return reexec.RunReexecAction("silent", reexec.Namespaces([]reexec.Namespace{{Type: "nett", Path: "/proc/self/ns/net"}}))
			},
			op: "option", is: status.ErrUnknownType, msg: `"nett"`,
		},
		{
			doc: "duplicate namespace type",
			run: func() error {
				return reexec.RunReexecAction("silent", reexec.Namespaces([]reexec.Namespace{
					{Type: "net", Path: "/proc/self/ns/net"}, {Type: "!net", Path: "/proc/self/ns/net"},
				}))
			},
			op: "option", is: status.ErrDuplicate, msg: "net listed more than once",
		},
		{
			doc: "namespace switch fails in the child",
			run: func() error {
				return reexec.RunReexecAction("silent", reexec.Namespaces([]reexec.Namespace{{Type: "!net", Path: "/nonexistent/net"}}))
			},
			op: "switch",
			check: func(t *testing.T, err error) {
				var se *status.Error
				if !errors.As(err, &se) {
					t.Fatalf("%v does not unwrap to a *status.Error", err)
				}
				if !preinit.Ran() {
					// early is not linked in (CGO_ENABLED=0): the child
					// refuses the variables it cannot act on.
					if se.Op != "start" || !errors.Is(err, status.ErrNotRun) {
						t.Fatalf("without early: got %#v, want op start, ErrNotRun", se)
					}
					return
				}
				if se.Op != "open" || se.Type != "net" || se.Path != "/nonexistent/net" || !errors.Is(err, syscall.ENOENT) {
					t.Fatalf("got %#v (%v), want open net /nonexistent/net ENOENT", se, se)
				}
			},
		},
		{
			doc: "child that never reads its 64 MiB parameter",
			run: func() error {
				big := strings.Repeat("z", 64<<20)
				return reexec.RunReexecAction("silent", reexec.Param(big),
					reexec.Namespaces([]reexec.Namespace{{Type: "!net", Path: "/nonexistent/net"}}))
			},
			op: "switch",
		},
		{
			doc: "namespace file of another type",
			run: func() error {
				return reexec.RunReexecAction("silent", reexec.Namespaces([]reexec.Namespace{{Type: "!mnt", Path: "/proc/self/ns/net"}}))
			},
			op: "switch",
			check: func(t *testing.T, err error) {
				if !preinit.Ran() {
					if !errors.Is(err, status.ErrNotRun) {
						t.Fatalf("without early: got %v, want ErrNotRun", err)
					}
					return
				}
				var se *status.Error
				if !errors.As(err, &se) || se.Type != "mnt" || se.Path != "/proc/self/ns/net" ||
					!errors.Is(err, status.ErrWrongType) || !errors.Is(err, syscall.EINVAL) {
					t.Fatalf("got %v, want a *status.Error for mnt, ErrWrongType, EINVAL", err)
				}
			},
		},
		{
			doc: "action error keeps its errno",
			run: func() error { _, err := failErrno.Run(context.Background(), struct{}{}); return err },
			op:  "action", is: syscall.ENOENT, msg: "opening the thing: no such file or directory", marker: "marker:failerrno",
			check: func(t *testing.T, err error) {
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("errors.Is(%v, os.ErrNotExist) = false", err)
				}
			},
		},
		{
			doc: "panic in the action",
			run: func() error { _, err := panics.Run(context.Background(), struct{}{}); return err },
			op:  "panic", is: reexec.ErrPanic, msg: "panic: kaboom", marker: "marker:panics",
			check: func(t *testing.T, err error) {
				var e *reexec.Error
				errors.As(err, &e)
				if !strings.Contains(e.Stderr, "goroutine") {
					t.Errorf("stderr lacks the panic's stack: %q", e.Stderr)
				}
			},
		},
		{
			doc: "non-zero exit",
			run: func() error { return reexec.RunReexecAction("exit3") },
			op:  "exit", msg: "exit status 3", marker: "marker:exit3",
			check: func(t *testing.T, err error) {
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 3 {
					t.Errorf("%v: want an *exec.ExitError with code 3", err)
				}
			},
		},
		{
			doc: "death by signal",
			run: func() error { return reexec.RunReexecAction("sigkill") },
			op:  "exit", msg: "signal: killed", marker: "marker:sigkill",
			check: func(t *testing.T, err error) {
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Errorf("%v: want an *exec.ExitError for SIGKILL", err)
				}
			},
		},
		{
			doc: "malformed result",
			run: func() error { return reexec.RunReexecAction("notjson", reexec.Result(&res)) },
			op:  "result", msg: "malformed", marker: "marker:notjson",
		},
		{
			doc: "missing result of a plain action",
			run: func() error { return reexec.RunReexecAction("silent", reexec.Result(&res)) },
			op:  "result", is: reexec.ErrNoResult, marker: "marker:silent",
		},
		{
			doc: "typed action that exits by itself",
			run: func() error { _, err := exitsEarly.Run(context.Background(), struct{}{}); return err },
			op:  "result", is: reexec.ErrNoResult, marker: "marker:exitsearly",
		},
		{
			doc: "parameter with unknown fields",
			run: func() error {
				return reexec.RunReexecAction(strict.Name(), reexec.Param(map[string]int{"a": 1, "zzz": 2}))
			},
			op: "param", msg: `unknown field "zzz"`,
		},
		{
			doc: "result with unknown fields",
			run: func() error {
				return reexec.RunReexecAction(strict.Name(), reexec.Param(strictParam{A: 1}), reexec.Result(&strictRes))
			},
			op: "result", msg: `unknown field "a"`, marker: "marker:strict",
		},
		{
			doc: "unencodable parameter",
			run: func() error { return reexec.RunReexecAction("silent", reexec.Param(func() {})) },
			op:  "param", msg: "unsupported type",
		},
		{
			doc: "context done before the start",
			run: func() error { _, err := sleeper.Run(cancelled, struct{}{}); return err },
			op:  "context", is: context.Canceled,
		},
		{
			doc: "deadline passed before the start",
			run: func() error { _, err := sleeper.Run(expired, struct{}{}); return err },
			op:  "context", is: context.DeadlineExceeded,
		},
		{
			doc: "context cancelled while the action runs",
			run: func() error { return runSleeperCancelled() },
			op:  "context", is: context.Canceled, marker: "marker:sleeper ready",
		},
		{
			doc: "stderr is bounded to its end",
			run: func() error { return reexec.RunReexecAction("loud") },
			op:  "exit", marker: "marker:loud",
			check: func(t *testing.T, err error) {
				var e *reexec.Error
				errors.As(err, &e)
				if len(e.Stderr) != reexec.StderrMax || !strings.HasSuffix(e.Stderr, "marker:loud") {
					t.Errorf("kept %d bytes of stderr ending in %q, want %d ending in the marker",
						len(e.Stderr), e.Stderr[max(0, len(e.Stderr)-20):], reexec.StderrMax)
				}
			},
		},
	})
}

// fault is a run that must fail, and how.
type fault struct {
	doc    string
	run    func() error
	op     string
	is     error  // errors.Is target, if any
	msg    string // in err.Error()
	marker string // in Error.Stderr
	check  func(t *testing.T, err error)
}

// runFaults runs each fault as a subtest, after before, if not nil, and
// checks its error.
func runFaults(t *testing.T, before func(t *testing.T), tests []fault) {
	for _, tc := range onPaths(tests) {
		t.Run(tc.doc, func(t *testing.T) {
			usePath(t, tc.fork)
			if before != nil {
				before(t)
			}
			err := tc.run()
			if err == nil {
				t.Fatal("no error")
			}
			var e *reexec.Error
			if !errors.As(err, &e) {
				t.Fatalf("%v (%T) is not a *reexec.Error", err, err)
			}
			if e.Action == "" || !strings.Contains(err.Error(), fmt.Sprintf("reexec %q", e.Action)) {
				t.Errorf("%q does not name the action %q", err, e.Action)
			}
			if e.Op != tc.op {
				t.Errorf("Op = %q, want %q (%v)", e.Op, tc.op, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%q does not contain %q", err, tc.msg)
			}
			if !strings.Contains(e.Stderr, tc.marker) {
				t.Errorf("Stderr %q does not contain %q", e.Stderr, tc.marker)
			}
			if tc.marker != "" && !strings.Contains(err.Error(), tc.marker) {
				t.Errorf("%q does not show the stderr marker %q", err, tc.marker)
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}
