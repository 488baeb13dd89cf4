package bench

import "testing"

// BenchmarkStartup times the exec of a cgo hello world, of the same program
// with a blank import of early and of the same program with a blank import
// of thediveo/gons, no gons_* variable set, alternating within each
// iteration: what importing early costs a program that switches nothing.
//
// It reports the median wall-clock time of each exec, fork to reaped exit,
// and the ratios to the hello world. Those carry the noise of fork, exec,
// loading and the Go runtime's start, which dwarfs a constructor that finds
// nothing to do; so it also reports the median per-iteration difference in
// the time from the C library's start to its call of main, which the
// subjects measure themselves (testdata/mark): the time the constructor of
// each library adds.
func BenchmarkStartup(b *testing.B) {
	env := baseEnv()
	subjects := []*subject{
		{name: "cgo", path: buildGo(b, "hello", timedGlibc, false), env: env},
		{name: "early", path: buildGo(b, "early", timedGlibc, false), env: env},
		{name: "thediveo", path: buildGo(b, "thediveo", timedGlibc, false), env: env},
	}
	t := alternate(b, subjects)
	cgo, early, thediveo := pick(t[0], wallTime), pick(t[1], wallTime), pick(t[2], wallTime)
	b.ReportMetric(cgo.median(), "cgo-ns/exec")
	b.ReportMetric(early.median(), "early-ns/exec")
	b.ReportMetric(thediveo.median(), "thediveo-ns/exec")
	b.ReportMetric(ratio(early.median(), cgo.median()), "early/cgo-ratio")
	b.ReportMetric(ratio(thediveo.median(), cgo.median()), "thediveo/cgo-ratio")
	cgoCtors := pick(t[0], ctorsTime)
	b.ReportMetric(pick(t[1], ctorsTime).minus(cgoCtors).median(), "early-ctor-ns/exec")
	b.ReportMetric(pick(t[2], ctorsTime).minus(cgoCtors).median(), "thediveo-ctor-ns/exec")
}
