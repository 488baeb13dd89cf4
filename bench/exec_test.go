package bench

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// subject is one program that a benchmark executes, with its arguments and
// environment.
type subject struct {
	name string
	path string
	args []string
	env  []string
}

// times is what one run of a subject measured.
type times struct {
	// wall is the wall-clock time from fork to reaped exit: what a caller
	// waits for.
	wall time.Duration
	// main is the time from the start of the subject's C library to its
	// main (Go's main.main, or the floor's point of having switched), as
	// the subject measured it (see testdata/mark).
	main time.Duration
	// ctors is the time from the start of the C library to its call of
	// main: the constructors, a switch by early or thediveo/gons among
	// them, without the Go runtime's start. For the floor it equals main.
	ctors time.Duration
	// extra is a third figure some subjects print: the time the known
	// added cost of testdata/calls took, by its own clock.
	extra time.Duration
	// minflt is the minor page faults of the process and of the
	// children it waited for, from wait4(2)'s rusage.
	minflt int64
}

// run executes s once and waits for it. A subject that does not exit with
// status 0 or does not print its times fails the benchmark.
func run(b *testing.B, s *subject) times {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	defer unix.Close(p[0])
	argv := append([]string{s.path}, s.args...)
	// x/sys/unix has no fork and exec of its own.
	attr := &syscall.ProcAttr{Env: s.env, Files: []uintptr{uintptr(p[1]), uintptr(p[1]), 2}}
	t0 := time.Now()
	pid, err := syscall.ForkExec(s.path, argv, attr)
	unix.Close(p[1])
	if err != nil {
		b.Fatalf("%s: %v", s.name, err)
	}
	var ws unix.WaitStatus
	var ru unix.Rusage
	for {
		_, err = unix.Wait4(pid, &ws, 0, &ru)
		if err != unix.EINTR {
			break
		}
	}
	t := times{wall: time.Since(t0), minflt: ru.Minflt}
	if err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
		b.Fatalf("%s %q: wait: %v, status %#x", s.name, s.args, err, ws)
	}
	var buf [96]byte
	n, _ := unix.Read(p[0], buf[:])
	out := string(buf[:max(n, 0)])
	f := strings.Fields(out)
	if len(f) == 1 { // the floor: it has no constructor to set apart
		f = append(f, f[0])
	}
	var ns [3]int64
	for i := range min(len(f), len(ns)) {
		if ns[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			break
		}
	}
	if len(f) < 2 || len(f) > 3 || err != nil || ns[1] < 0 {
		b.Fatalf("%s %q: output %q: want nanoseconds to main and to the end of the constructors", s.name, s.args, out)
	}
	t.main, t.ctors, t.extra = time.Duration(ns[0]), time.Duration(ns[1]), time.Duration(ns[2])
	return t
}

// baseEnv is the environment every subject starts from: fixed, not the
// caller's, so that a figure does not depend on who runs the benchmarks.
// The constructors scan it, and what they touch on the way counts: early
// looks past the first byte of a variable only when it is g or G (for
// gons_* and GONS_REEXEC_FD), and the code it runs then, cold the first
// time, fell on the switching run alone when the caller's environment had
// no such variable (per-switch ratio for net, dynamic
// glibc: 1.18 without, 1.01 with a G variable, 0.95 with a g one). So it
// holds one variable of each, go_bench and GO_BENCH, which the idle runs
// scan as the switching runs scan their gons_* variables, besides a
// login shell's few. The bench README's Method says the same.
func baseEnv() []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/", "LANG=C.UTF-8", "TERM=xterm-256color",
		"go_bench=1", "GO_BENCH=1",
	}
}

// withEnv returns baseEnv plus kv.
func withEnv(kv ...string) []string {
	return append(baseEnv(), kv...)
}

// minIterations is the fewest iterations a benchmark of executed subjects
// takes, also when -benchtime asks for fewer: a median of one sample is not
// a figure, and CI's one-iteration smoke run checks that every figure is
// plausible (see check). The extra iterations run after the timed loop.
const minIterations = 21

// alternate runs every subject once per iteration, in an order drawn at
// random for each iteration (from a fixed seed), so that drift of the
// machine cancels out between subjects and none always runs first or
// after the same other one; it returns the times of each subject, one per
// iteration.
func alternate(b *testing.B, subjects []*subject) [][]times {
	b.Helper()
	all := make([][]times, len(subjects))
	rng := rand.New(rand.NewPCG(3, 4))
	order := make([]int, len(subjects))
	iteration := func(int) {
		for j := range order {
			order[j] = j
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			all[k] = append(all[k], run(b, subjects[k]))
		}
	}
	iterate(b, iteration)
	return all
}

// iterate calls iteration with 0, 1, ... once for each iteration of b's
// loop, then more up to minIterations, and returns the number of calls,
// which it also reports as the metric "samples": the benchmark line's
// iteration count is b.N, fewer than ran when b.N < minIterations.
func iterate(b *testing.B, iteration func(i int)) int {
	i := 0
	for ; b.Loop(); i++ {
		iteration(i)
	}
	for ; i < minIterations; i++ {
		iteration(i)
	}
	b.ReportMetric(float64(i), "samples")
	return i
}

// pick returns one of the measured times of each run, in nanoseconds.
func pick(t []times, which func(times) float64) series {
	s := make(series, len(t))
	for i := range t {
		s[i] = which(t[i])
	}
	return s
}

func wallTime(t times) float64    { return float64(t.wall) }
func ctorsTime(t times) float64   { return float64(t.ctors) }
func extraTime(t times) float64   { return float64(t.extra) }
func minorFaults(t times) float64 { return float64(t.minflt) }
