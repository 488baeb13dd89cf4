package bench

import (
	"strings"
	"testing"
)

// BenchmarkResultFirst times the round trip of the trivial typed action
// through the fork server with reexec.ResultFirst, which returns once the
// result is in and reaps the child in the background, next to the same
// round trip without it and the exec floor, as BenchmarkForkServer times
// them: without a switch, and joining a network namespace. The driver
// waits for the child's exit after timing each request (driver.Settle),
// so that no figure pays for another's. It reports the medians and the
// ratios of the result-first round trip to the floor and to the plain
// round trip.
func BenchmarkResultFirst(b *testing.B) {
	if !haveReexec(b) {
		return
	}
	b.Run("none", func(b *testing.B) { benchResultFirst(b, "") })
	b.Run("net", func(b *testing.B) { benchResultFirst(b, "net "+newHolder(b, false).ns("net")) })
}

func benchResultFirst(b *testing.B, ns string) {
	v := variant{now: true}
	execBin := buildGoVariant(b, "reexec", dynamicGlibc, v)
	forkBin := buildGoVariant(b, "forkserver", dynamicGlibc, v)
	req := "reexec " + ns
	d := startDriver(b, forkBin, "-floor", execBin)
	floor := &forkSubject{name: "floor", d: d, req: strings.Replace(req, "reexec", "floor", 1)}
	fork := &forkSubject{name: "fork", d: d, req: req}
	first := &forkSubject{name: "resultfirst", d: startDriver(b, forkBin, "resultfirst"), req: req}
	all := []*forkSubject{floor, fork, first}
	n := measureForks(b, all)
	for _, s := range all {
		distribution(b, s.name+"-ns/op", s.elapsed)
	}
	figure(b, "resultfirst/floor-ratio", over(med(first.elapsed), med(floor.elapsed)), n, ratio)
	figure(b, "resultfirst/fork-ratio", over(med(first.elapsed), med(fork.elapsed)), n, ratio)
	figure(b, "fork/floor-ratio", over(med(fork.elapsed), med(floor.elapsed)), n, ratio)
}
