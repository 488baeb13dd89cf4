package bench

import "testing"

// BenchmarkStartup times the exec of a cgo hello world, of the same program
// with a blank import of early and of the same program with a blank import
// of thediveo/gons, no gons_* variable set, alternating within each
// iteration: what importing early costs a program that switches nothing.
// One sub-benchmark for each way of linking (see links); the dynamic
// subjects are linked with -z now, as every timed subject is.
//
// It reports the median wall-clock time of each exec, fork to reaped exit,
// with its 10th and 90th percentiles, the ratios of the medians to the
// hello world, and the minor page faults of each exec and the median
// per-iteration difference of those to the hello world's. The exec times
// carry the noise of fork, exec, loading and the Go runtime's start, which
// dwarfs a constructor that finds nothing to do; so it also reports the
// median per-iteration difference in the time from the C library's start
// to its call of main, which the subjects measure themselves
// (testdata/mark): the time the constructor of each library adds. Every
// figure but the percentiles comes with its 95 % confidence interval.
func BenchmarkStartup(b *testing.B) {
	for _, l := range links {
		b.Run(l.timedName(), func(b *testing.B) { benchStartup(b, l) })
	}
}

func benchStartup(b *testing.B, l linking) {
	env := baseEnv()
	subjects := []*subject{
		{name: "cgo", path: buildGoVariant(b, "hello", l, timed), env: env},
		{name: "early", path: buildGoVariant(b, "early", l, timed), env: env},
		{name: "thediveo", path: buildGoVariant(b, "thediveo", l, timed), env: env},
	}
	t := alternate(b, subjects)
	n := len(t[0])
	cgo := pick(t[0], wallTime)
	cgoCtors, cgoFaults := pick(t[0], ctorsTime), pick(t[0], minorFaults)
	for i, s := range subjects {
		wall := pick(t[i], wallTime)
		distribution(b, s.name+"-ns/exec", wall)
		figure(b, s.name+"-minflt/exec", med(pick(t[i], minorFaults)), n, positive)
		if i == 0 {
			continue
		}
		figure(b, s.name+"/cgo-ratio", over(med(wall), med(cgo)), n, ratio)
		figure(b, s.name+"-ctor-ns/exec", med(pick(t[i], ctorsTime).minus(cgoCtors)), n, signed)
		figure(b, s.name+"-added-minflt/exec", med(pick(t[i], minorFaults).minus(cgoFaults)), n, signed)
	}
}
