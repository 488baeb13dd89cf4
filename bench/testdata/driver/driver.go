// Package driver is the shared part of the reexec benchmark's subjects,
// one per reexec library. A driver is started once and serves requests,
// one a line on stdin, answering each on stdout with the nanoseconds it
// took, the heap allocations it made and the minor page faults of the
// processes it started and waited for (getrusage(2) RUSAGE_CHILDREN):
//
//	floor [type path]    exec /proc/self/exe, which exits at once (with
//	                     gons_<type>=<path> set, so it switches first)
//	reexec [type path]   run the library's trivial action, with a small
//	                     parameter and result (inside that namespace)
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
		if len(f) != 1 && len(f) != 3 {
			fail(fmt.Errorf("bad request %q", in.Text()))
		}
		var ns []string
		if len(f) == 3 {
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
			var r Result
			r, err = reexec(ns, p)
			if err == nil && r != Answer(p) {
				err = fmt.Errorf("action returned %+v, want %+v", r, Answer(p))
			}
		default:
			err = errors.New("unknown request " + f[0])
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		unix.Getrusage(unix.RUSAGE_CHILDREN, &ruAfter)
		if err != nil {
			fail(err)
		}
		fmt.Println(elapsed.Nanoseconds(), after.Mallocs-before.Mallocs, ruAfter.Minflt-ruBefore.Minflt)
	}
}

// floor executes this program, which exits at once, and waits for it.
func floor(ns []string) error {
	cmd := exec.Command("/proc/self/exe", "exit")
	if ns != nil {
		cmd.Env = append(os.Environ(), "gons_"+ns[0]+"="+ns[1])
	}
	return cmd.Run()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "driver:", err)
	os.Exit(1)
}
