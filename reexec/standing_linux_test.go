package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

// standingState is what a standing child keeps between calls.
var standingState atomic.Int64

var (
	// whoAmI returns the child's PID and how many calls it served.
	whoAmI = reexec.RegisterFunc("standing-who", func(struct{}) ([2]int64, error) {
		return [2]int64{int64(os.Getpid()), standingState.Add(1)}, nil
	})
	// napper sleeps for the given milliseconds, then returns them.
	napper = reexec.RegisterFunc("standing-nap", func(ms int) (int, error) {
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return ms, nil
	})
	// crasher says "ready" on standard error, then exits with the status
	// given, after a while if it is 0 (and is killed meanwhile).
	crasher = reexec.RegisterFunc("standing-crash", func(status int) (int, error) {
		fmt.Fprintln(os.Stderr, "marker:crasher ready")
		if status == 0 {
			time.Sleep(time.Hour)
		}
		os.Exit(status)
		return 0, nil
	})
)

// blocker opens the FIFO it is given for reading, which blocks until the
// test opens it for writing.
var blocker = reexec.RegisterFunc("standing-block", func(fifo string) (int, error) {
	fmt.Fprintln(os.Stderr, "marker:blocker ready")
	f, err := os.Open(fifo)
	if err != nil {
		return 0, err
	}
	return 0, f.Close()
})

// startStanding starts a standing child that the test closes when it
// ends.
func startStanding(t *testing.T, ctx context.Context, opts ...reexec.Option) *reexec.Standing {
	t.Helper()
	s, err := reexec.Start(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStanding runs calls in a standing child: one process for all, which
// keeps its state, and errors as in a fresh child; then closes it: calls
// after Close fail with ErrClosed, Close again does nothing, and nothing
// is left behind.
func TestStanding(t *testing.T) { forEachPath(t, standing) }

func standing(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	s, err := reexec.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var first [2]int64
	for i := range 20 {
		got, err := whoAmI.RunIn(ctx, s, struct{}{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
		}
		if got[0] != int64(s.PID()) || got[1] != first[1]+int64(i) {
			t.Fatalf("call %d: PID %d, count %d; want PID %d, count %d", i, got[0], got[1], s.PID(), first[1]+int64(i))
		}
	}
	p := payload{Text: "hi", Bytes: []byte{0, 1}, N: 41}
	if got, err := echo.RunIn(ctx, s, p); err != nil || got.N != 42 || got.Text != "hi" || string(got.Bytes) != "\x00\x01" {
		t.Errorf("echo: %+v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	_, err = whoAmI.RunIn(ctx, s, struct{}{})
	if !errors.Is(err, reexec.ErrClosed) {
		t.Errorf("a call after Close: %v, want ErrClosed", err)
	}
	if unix.Kill(s.PID(), 0) != unix.ESRCH {
		t.Errorf("the child %d still runs after Close", s.PID())
	}
}

// TestStandingSameAsFresh runs actions in a fresh child and in a standing
// one: results and errors are the same, and a panic or a Goexit leaves the
// standing child serving.
func TestStandingSameAsFresh(t *testing.T) { forEachPath(t, standingSameAsFresh) }

func standingSameAsFresh(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	s := startStanding(t, ctx)
	type outcome struct {
		Result  string
		Op      string
		Errno   error
		Is      []error
		Message string
	}
	observe := func(r any, err error) outcome {
		o := outcome{Result: fmt.Sprint(r)}
		if err == nil {
			return o
		}
		var e *reexec.Error
		if !errors.As(err, &e) {
			return outcome{Message: "not an *Error: " + err.Error()}
		}
		o.Op, o.Message = e.Op, e.Err.Error()
		var errno unix.Errno
		if errors.As(err, &errno) {
			o.Errno = errno
		}
		for _, s := range []error{reexec.ErrPanic, reexec.ErrGoexit, reexec.ErrUnknownAction} {
			if errors.Is(err, s) {
				o.Is = append(o.Is, s)
			}
		}
		return o
	}
	cases := []struct {
		name          string
		fresh, stands func() (any, error)
	}{
		{"result", func() (any, error) { return echo.Run(ctx, payload{Text: "x"}) },
			func() (any, error) { return echo.RunIn(ctx, s, payload{Text: "x"}) }},
		{"errno", func() (any, error) { return failErrno.Run(ctx, struct{}{}) },
			func() (any, error) { return failErrno.RunIn(ctx, s, struct{}{}) }},
		{"panic", func() (any, error) { return panics.Run(ctx, struct{}{}) },
			func() (any, error) { return panics.RunIn(ctx, s, struct{}{}) }},
		{"goexit", func() (any, error) { return goexitFunc.Run(ctx, struct{}{}) },
			func() (any, error) { return goexitFunc.RunIn(ctx, s, struct{}{}) }},
		{"strict", func() (any, error) { return strict.Run(ctx, strictParam{A: 1}) },
			func() (any, error) { return strict.RunIn(ctx, s, strictParam{A: 1}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := observe(tc.fresh())
			got := observe(tc.stands())
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("standing child: %+v\nfresh child:    %+v", got, want)
			}
		})
	}
	if _, err := whoAmI.RunIn(ctx, s, struct{}{}); err != nil {
		t.Errorf("after a panic and a Goexit, the standing child does not serve: %v", err)
	}
}

// TestStandingOptions checks what Start refuses, and that a failed switch
// is the switch's error, as for a run.
func TestStandingOptions(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	for _, opt := range []reexec.Option{reexec.Param(1), reexec.Result(new(int)), reexec.InProcess()} {
		if _, err := reexec.Start(ctx, opt); err == nil || err.(*reexec.Error).Op != "option" {
			t.Errorf("Start with a call's option: %v, want an option error", err)
		}
	}
	if _, err := whoAmI.Run(ctx, struct{}{}, reexec.IdleTimeout(time.Second)); err == nil || err.(*reexec.Error).Op != "option" {
		t.Errorf("Run with IdleTimeout: %v, want an option error", err)
	}
	if _, err := whoAmI.RunIn(ctx, nil, struct{}{}); err == nil || err.(*reexec.Error).Op != "option" {
		t.Errorf("RunIn with a nil *Standing: %v, want an option error", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := reexec.Start(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with an ended context: %v", err)
	}
	requireSwitching(t)
	forEachPath(t, func(t *testing.T) {
		_, err := reexec.Start(ctx, reexec.Namespaces([]reexec.Namespace{{Type: "net", Path: "/nonexistent"}}))
		var se *status.Error
		if !errors.As(err, &se) || !errors.Is(err, unix.ENOENT) || err.(*reexec.Error).Op != "switch" || se.Path != "/nonexistent" {
			t.Errorf("Start into a missing namespace: %v, want a switch error with ENOENT", err)
		}
	})
}

// TestStandingNamespaces starts standing children in namespaces of a
// holder, of each type by path, user and mnt together, and all by Target,
// and checks over several calls that they run there.
func TestStandingNamespaces(t *testing.T) {
	requireSwitching(t)
	pid := holder(t, "hostname gons-standing")
	hostNS := nsLinks(t, "self")
	holderNS := nsLinks(t, strconv.Itoa(pid))
	byPath := func(types ...string) reexec.Option {
		var ns []reexec.Namespace
		for _, typ := range types {
			ns = append(ns, reexec.Namespace{Type: "!" + typ, Path: fmt.Sprintf("/proc/%d/ns/%s", pid, typ)})
		}
		return reexec.Namespaces(ns)
	}
	cases := []struct {
		name  string
		types []string
		opt   reexec.Option
	}{
		{"uts", []string{"uts"}, byPath("uts")},
		{"net", []string{"net"}, byPath("net")},
		{"mnt", []string{"mnt"}, byPath("mnt")},
		{"user+mnt", []string{"user", "mnt"}, byPath("user", "mnt")},
		{"pid", []string{"pid"}, byPath("pid")},
		{"time", []string{"time"}, byPath("time")},
		{"target", nsTypes, reexec.Target(pid)},
	}
	forEachPath(t, func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				s := startStanding(t, ctx, tc.opt)
				for range 3 {
					o, err := observer.RunIn(ctx, s, "/nonexistent")
					if err != nil {
						t.Fatal(err)
					}
					for _, typ := range nsTypes {
						want := hostNS[typ]
						if slices.Contains(tc.types, typ) {
							want = holderNS[typ]
						}
						if o.NS[typ] != want {
							t.Errorf("%s namespace %s, want %s", typ, o.NS[typ], want)
						}
					}
					if slices.Contains(tc.types, "uts") && o.Hostname != "gons-standing" {
						t.Errorf("hostname %q, want the holder's", o.Hostname)
					}
					if slices.Contains(tc.types, "pid") && o.Ppid != 0 {
						t.Errorf("getppid() = %d, want 0 inside the PID namespace", o.Ppid)
					}
				}
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
		if kids := children(t); len(kids) != 1 {
			t.Errorf("children %v, want the holder's alone", kids)
		}
	})
}

// TestStandingConcurrent makes calls from 16 goroutines at once, some
// cancelled while they run, checks each outcome, and that nothing is left
// behind.
func TestStandingConcurrent(t *testing.T) { forEachPath(t, standingConcurrent) }

func standingConcurrent(t *testing.T) {
	noLeaks(t)
	s := startStanding(t, context.Background())
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				ms := (g + i) % 3
				ctx, cancel := context.Background(), func() {}
				cancelled := (g+i)%5 == 0
				if cancelled {
					ctx, cancel = context.WithTimeout(ctx, time.Millisecond)
					ms = 200
				}
				got, err := napper.RunIn(ctx, s, ms)
				cancel()
				switch {
				case cancelled && !errors.Is(err, context.DeadlineExceeded):
					t.Errorf("goroutine %d, call %d: %v, want the deadline", g, i, err)
				case !cancelled && (err != nil || got != ms):
					t.Errorf("goroutine %d, call %d: %d, %v; want %d", g, i, got, err, ms)
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// onceCancel is a writer that calls cancel once when it sees word.
func readyOn(word string) (*cancelOn, <-chan struct{}) {
	ready := make(chan struct{})
	var once sync.Once
	return &cancelOn{word: word, cancel: func() { once.Do(func() { close(ready) }) }}, ready
}

// TestStandingChildDies ends the standing child while a call runs: killed
// from outside, by an action that exits, and by the end of the context of
// Start. The call fails with ErrGone and the cause, and so does the next.
func TestStandingChildDies(t *testing.T) { forEachPath(t, standingChildDies) }

func standingChildDies(t *testing.T) {
	noLeaks(t)
	cases := []struct {
		name   string
		status int
		end    func(s *reexec.Standing, cancel func())
		is     error
	}{
		{"killed", 0, func(s *reexec.Standing, _ func()) { unix.Kill(s.PID(), unix.SIGKILL) }, nil},
		{"exits", 7, func(*reexec.Standing, func()) {}, nil},
		{"context", 0, func(_ *reexec.Standing, cancel func()) { cancel() }, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, ready := readyOn("ready")
			s := startStanding(t, ctx, reexec.Stderr(w))
			done := make(chan error, 1)
			go func() {
				_, err := crasher.RunIn(context.Background(), s, tc.status)
				done <- err
			}()
			<-ready
			tc.end(s, cancel)
			err := <-done
			var e *reexec.Error
			if !errors.Is(err, reexec.ErrGone) || !errors.As(err, &e) || e.Op != "exit" {
				t.Fatalf("the call in flight: %v, want an exit error with ErrGone", err)
			}
			if !strings.Contains(e.Stderr, "marker:crasher") {
				t.Errorf("Stderr %q misses the child's", e.Stderr)
			}
			var exit *exec.ExitError
			switch {
			case tc.is != nil && !errors.Is(err, tc.is):
				t.Errorf("the call in flight: %v, want it to wrap %v", err, tc.is)
			case tc.is == nil && !errors.As(err, &exit):
				t.Errorf("the call in flight: %v, want it to wrap the exit", err)
			case tc.status != 0 && exit.ExitCode() != tc.status:
				t.Errorf("exit status %d, want %d", exit.ExitCode(), tc.status)
			}
			_, err = whoAmI.RunIn(context.Background(), s, struct{}{})
			if !errors.Is(err, reexec.ErrGone) || !errors.As(err, &e) || e.Op != "start" {
				t.Errorf("the next call: %v, want a start error with ErrGone", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close after the end: %v", err)
			}
		})
	}
}

// TestStandingCloseInFlight closes the child while a call runs: the call
// fails with ErrClosed.
func TestStandingCloseInFlight(t *testing.T) { forEachPath(t, standingCloseInFlight) }

func standingCloseInFlight(t *testing.T) {
	noLeaks(t)
	w, ready := readyOn("ready")
	s := startStanding(t, context.Background(), reexec.Stderr(w))
	done := make(chan error, 1)
	go func() {
		_, err := crasher.RunIn(context.Background(), s, 0)
		done <- err
	}()
	<-ready
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-done; !errors.Is(err, reexec.ErrClosed) {
		t.Errorf("the call in flight: %v, want ErrClosed", err)
	}
}

// TestStandingIdle lets a standing child with IdleTimeout go idle: it is
// closed, and calls then fail with ErrClosed.
func TestStandingIdle(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	s := startStanding(t, ctx, reexec.IdleTimeout(time.Second))
	if _, err := napper.RunIn(ctx, s, 1500); err != nil {
		t.Fatalf("a call longer than the idle timeout: %v", err)
	}
	if !settle(func() bool { return unix.Kill(s.PID(), 0) == unix.ESRCH }) {
		t.Fatal("an idle child still runs")
	}
	if _, err := whoAmI.RunIn(ctx, s, struct{}{}); !errors.Is(err, reexec.ErrClosed) {
		t.Errorf("a call to an idle child: %v, want ErrClosed", err)
	}
}

// TestStandingDiesWithProgram starts a copy of the test binary that starts
// a standing child and is then killed: the child must die with it, on
// either path.
func TestStandingDiesWithProgram(t *testing.T) {
	if how := os.Getenv("GONS_TEST_STANDING_CALLER"); how != "" {
		usePath(t, how == "fork")
		s, err := reexec.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("child", s.PID())
		time.Sleep(time.Hour)
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			caller := exec.Command("/proc/self/exe", "-test.run=^TestStandingDiesWithProgram$")
			caller.Env = append(os.Environ(), "GONS_TEST_STANDING_CALLER="+p.name)
			diesWithCaller(t, caller, "the standing child")
		})
	}
}

// TestStandingBlockedCall leaves a call blocked in the child, abandoned by
// its caller: the next call, sent while it still runs, is served all the
// same.
func TestStandingBlockedCall(t *testing.T) { forEachPath(t, standingBlockedCall) }

func standingBlockedCall(t *testing.T) {
	noLeaks(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	w, ready := readyOn("ready")
	s := startStanding(t, context.Background(), reexec.Stderr(w))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ready
		cancel()
	}()
	// Abandoned once it runs.
	if _, err := blocker.RunIn(ctx, s, fifo); !errors.Is(err, context.Canceled) {
		t.Fatalf("the abandoned call: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 3 {
		if _, err := whoAmI.RunIn(ctx, s, struct{}{}); err != nil {
			t.Fatalf("a call while another blocks: %v", err)
		}
	}
	// A frame larger than the socket holds.
	big := payload{Bytes: make([]byte, 4<<20)}
	if got, err := echo.RunIn(ctx, s, big); err != nil || len(got.Bytes) != len(big.Bytes) {
		t.Fatalf("a large call while another blocks: %d bytes, %v", len(got.Bytes), err)
	}
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
