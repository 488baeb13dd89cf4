package bench

import (
	"strconv"
	"testing"
)

// harnessCalls is the number of system calls of the known added cost: of
// the order of what a switch costs, on the machine of the README's figures.
const harnessCalls = 100

// BenchmarkHarness tests the benchmark harness itself, for each way of
// linking, with the method of Startup and Switch:
//
//   - startup: testdata/calls with BENCH_CALLS=0, as two subjects (A/A),
//     and with BENCH_CALLS=100, a constructor that makes 100 more system
//     calls and times them itself. A/A must give an exec ratio of 1 and a
//     constructor difference of 0 within their spread; the known cost, as
//     the harness measures it (the per-iteration difference of the
//     constructor spans), must equal the time the constructor took by its
//     own clock: a ratio of 1 within its spread.
//   - switch: the early subject switching into a holder's network
//     namespace, as two subjects with one idle run: the ratio of their
//     per-switch costs must be 1 within its spread.
//
// With at least checkedIterations iterations, a figure whose 95 %
// confidence interval misses what it must be by more than a small margin
// (1 % for ratios, 200 ns for a difference: a harness bias that matters)
// fails the benchmark. Fewer iterations, as in CI's smoke run, give no
// interval to trust.
func BenchmarkHarness(b *testing.B) {
	for _, l := range links {
		b.Run(l.timedName(), func(b *testing.B) {
			b.Run("startup", func(b *testing.B) { harnessStartup(b, l) })
			b.Run("switch", func(b *testing.B) { harnessSwitch(b, l) })
		})
	}
}

func harnessStartup(b *testing.B, l linking) {
	bin := buildGoVariant(b, "calls", l, timed)
	subjects := []*subject{
		{name: "a", path: bin, env: withEnv("BENCH_CALLS=0")},
		{name: "a2", path: bin, env: withEnv("BENCH_CALLS=0")},
		{name: "calls", path: bin, env: withEnv("BENCH_CALLS=" + strconv.Itoa(harnessCalls))},
	}
	t := alternate(b, subjects)
	n := len(t[0])
	a, a2, calls := t[0], t[1], t[2]
	aa := over(med(pick(a2, wallTime)), med(pick(a, wallTime)))
	figure(b, "a2/a-ratio", aa, n, ratio)
	wantWithin(b, "A/A exec ratio", aa, n, 1, 0.01)
	aaCtors := med(pick(a2, ctorsTime).minus(pick(a, ctorsTime)))
	figure(b, "a2-a-ctor-ns/exec", aaCtors, n, signed)
	wantWithin(b, "A/A constructor difference", aaCtors, n, 0, 200)

	measured := med(pick(calls, ctorsTime).minus(pick(a, ctorsTime)))
	own := med(pick(calls, extraTime))
	figure(b, "calls-ctor-ns/exec", measured, n, positive)
	figure(b, "calls-own-ns/exec", own, n, positive)
	figure(b, "calls-ns/call", per(own, harnessCalls), n, positive)
	figure(b, "calls-exec-ns/exec", med(pick(calls, wallTime).minus(pick(a, wallTime))), n, signed)
	known := over(measured, own)
	figure(b, "calls/own-ratio", known, n, ratio)
	wantWithin(b, "known cost, measured against its own clock", known, n, 1, 0.01)
}

func harnessSwitch(b *testing.B, l linking) {
	h := newHolder(b, false)
	bin := buildGoVariant(b, "early", l, timed)
	idle := &subject{name: "early", path: bin, env: baseEnv()}
	a := pair{idle: idle, n: 1, switching: &subject{name: "a", path: bin, env: h.env([]string{"net"})}}
	a2 := pair{idle: idle, n: 1, switching: &subject{name: "a2", path: bin, env: h.env([]string{"net"})}}
	subjects := []*subject{idle, a.switching, a2.switching}
	t := alternate(b, subjects)
	n := len(t[0])
	aa := over(a2.cost(subjects, t), a.cost(subjects, t))
	figure(b, "a2/a-ratio", aa, n, ratio)
	wantWithin(b, "A/A switch ratio", aa, n, 1, 0.01)
}

// checkedIterations is the fewest iterations whose confidence intervals
// the harness test checks.
const checkedIterations = 100

// wantWithin fails the benchmark when the 95 % confidence interval of st
// over n iterations misses want by more than margin, if n is at least
// checkedIterations.
func wantWithin(b *testing.B, what string, st stat, n int, want, margin float64) {
	b.Helper()
	if n < checkedIterations {
		return
	}
	lo, hi := confidence(st, n)
	if lo > want+margin || hi < want-margin {
		b.Errorf("harness: %s is %.4g, its 95 %% confidence interval [%.4g, %.4g] misses %g by more than %g",
			what, st(allIters(n)), lo, hi, want, margin)
	}
}
