package bench

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
}

// run executes s once and waits for it. A subject that does not exit with
// status 0 or does not print its times fails the benchmark.
func run(b *testing.B, s *subject) times {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	defer syscall.Close(p[0])
	argv := append([]string{s.path}, s.args...)
	attr := &syscall.ProcAttr{Env: s.env, Files: []uintptr{uintptr(p[1]), uintptr(p[1]), 2}}
	t0 := time.Now()
	pid, err := syscall.ForkExec(s.path, argv, attr)
	syscall.Close(p[1])
	if err != nil {
		b.Fatalf("%s: %v", s.name, err)
	}
	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	t := times{wall: time.Since(t0)}
	if err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
		b.Fatalf("%s %q: wait: %v, status %#x", s.name, s.args, err, ws)
	}
	var buf [64]byte
	n, _ := syscall.Read(p[0], buf[:])
	out := string(buf[:max(n, 0)])
	f := strings.Fields(out)
	if len(f) == 1 { // the floor: it has no constructor to set apart
		f = append(f, f[0])
	}
	var ns [2]int64
	for i := range ns {
		if len(f) != len(ns) {
			break
		}
		ns[i], err = strconv.ParseInt(f[i], 10, 64)
	}
	if len(f) != len(ns) || err != nil || ns[1] < 0 {
		b.Fatalf("%s %q: output %q: want nanoseconds to main and to the end of the constructors", s.name, s.args, out)
	}
	t.main, t.ctors = time.Duration(ns[0]), time.Duration(ns[1])
	return t
}

// baseEnv is the environment every subject starts from: ours without any
// gons_* variable, so that each benchmark sets exactly what it means to.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "gons_") {
			env = append(env, kv)
		}
	}
	return env
}

// samples collects one duration per benchmark iteration.
type samples []time.Duration

// median returns the median of s, the mean of the middle two for an even
// count, and 0 for none.
func (s samples) median() float64 { return median(s) }

func median[T ~int64](s []T) float64 {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	m := len(c) / 2
	if len(c)%2 == 1 {
		return float64(c[m])
	}
	return float64(c[m-1]+c[m]) / 2
}

// minus returns the per-iteration differences s[i]-o[i]: with both taken
// in the same iteration, drift between iterations cancels out.
func (s samples) minus(o samples) samples {
	d := make(samples, len(s))
	for i := range s {
		d[i] = s[i] - o[i]
	}
	return d
}

// alternate runs every subject once per iteration, starting each iteration
// with the next subject in turn so that none always runs first, and returns
// the times of each subject, one per iteration.
func alternate(b *testing.B, subjects []*subject) [][]times {
	b.Helper()
	all := make([][]times, len(subjects))
	for i := 0; b.Loop(); i++ {
		for j := range subjects {
			k := (i + j) % len(subjects)
			all[k] = append(all[k], run(b, subjects[k]))
		}
	}
	return all
}

// pick returns one of the measured times of each run.
func pick(t []times, which func(times) time.Duration) samples {
	s := make(samples, len(t))
	for i := range t {
		s[i] = which(t[i])
	}
	return s
}

func wallTime(t times) time.Duration  { return t.wall }
func ctorsTime(t times) time.Duration { return t.ctors }

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
