// Package driver is the shared part of the reexec benchmark's subjects,
// one per reexec library. A driver is started once and serves requests,
// one a line on stdin, answering each on stdout with the nanoseconds it
// took, the heap allocations it made and the minor page faults of the
// processes it started and waited for (getrusage(2) RUSAGE_CHILDREN):
//
//	floor [type path]... exec FloorExe, which exits at once (with
//	                     gons_<type>=<path> set, so it switches first)
//	reexec [type path]... run the library's trivial action, with a small
//	                     parameter and result (inside those namespaces)
//	burst [type path]... run it BurstCalls times from BurstWorkers
//	                     goroutines at once (the time is of them all)
//
// Timing inside the driver leaves the benchmark's pipes out of the figures.
package driver

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Param is the parameter of the trivial action.
type Param struct {
	Name string
	N    int
}

// Result is the result of the trivial action.
type Result struct {
	Greeting string
	N        int
}

// Answer is what the trivial action returns for p.
func Answer(p Param) Result { return Result{Greeting: "hello, " + p.Name, N: p.N + 1} }

// Serve returns at once, which ends the process, when it runs as the floor's
// child; otherwise it serves requests until stdin closes, running the
// trivial action through reexec, with ns the namespace to switch to or
// nil, and checking its result.
func Serve(reexec func(ns []string, p Param) (Result, error)) {
	if len(os.Args) > 1 && os.Args[1] == "exit" {
		return
	}
	in := bufio.NewScanner(os.Stdin)
	p := Param{Name: "bench", N: 41}
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f)%2 != 1 {
			fail(fmt.Errorf("bad request %q", in.Text()))
		}
		var ns []string
		if len(f) > 1 {
			ns = f[1:]
		}
		var before, after runtime.MemStats
		var ruBefore, ruAfter unix.Rusage
		runtime.ReadMemStats(&before)
		unix.Getrusage(unix.RUSAGE_CHILDREN, &ruBefore)
		start := time.Now()
		var err error
		switch f[0] {
		case "floor":
			err = floor(ns)
		case "reexec":
			err = call(reexec, ns, p)
		case "burst":
			err = burst(reexec, ns, p)
		default:
			err = errors.New("unknown request " + f[0])
		}
		elapsed := time.Since(start)
		if Settle != nil {
			Settle()
		}
		runtime.ReadMemStats(&after)
		unix.Getrusage(unix.RUSAGE_CHILDREN, &ruAfter)
		if err != nil {
			fail(err)
		}
		fmt.Println(elapsed.Nanoseconds(), after.Mallocs-before.Mallocs, ruAfter.Minflt-ruBefore.Minflt)
	}
}

// Settle, if set, runs after each request is timed and before the reply:
// what a subject leaves to run in the background (a child still exiting)
// ends outside its own figure, and before the next subject's.
var Settle func()

// call runs the action once and checks its result.
func call(reexec func(ns []string, p Param) (Result, error), ns []string, p Param) error {
	r, err := reexec(ns, p)
	if err == nil && r != Answer(p) {
		err = fmt.Errorf("action returned %+v, want %+v", r, Answer(p))
	}
	return err
}

// A burst is BurstCalls calls from BurstWorkers goroutines.
const (
	BurstWorkers = 16
	BurstCalls   = 64
)

// burst makes BurstCalls calls from BurstWorkers goroutines at once and
// returns the first error.
func burst(reexec func(ns []string, p Param) (Result, error), ns []string, p Param) error {
	errs := make(chan error, BurstCalls)
	work := make(chan struct{}, BurstCalls)
	for range BurstCalls {
		work <- struct{}{}
	}
	close(work)
	for range BurstWorkers {
		go func() {
			for range work {
				errs <- call(reexec, ns, p)
			}
		}()
	}
	var first error
	for range BurstCalls {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// FloorExe is the program the floor executes with the argument "exit",
// which must make it exit at once: by default this one.
var FloorExe = "/proc/self/exe"

// floor executes FloorExe, which exits at once, and waits for it.
func floor(ns []string) error {
	cmd := exec.Command(FloorExe, "exit")
	if ns != nil {
		cmd.Env = os.Environ()
		for i := 0; i+1 < len(ns); i += 2 {
			cmd.Env = append(cmd.Env, "gons_"+ns[i]+"="+ns[i+1])
		}
	}
	return cmd.Run()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "driver:", err)
	os.Exit(1)
}
