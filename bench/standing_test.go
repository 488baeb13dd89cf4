package bench

import (
	"strings"
	"testing"
)

// BenchmarkStanding times a call of the trivial typed action in a standing
// child of package reexec (reexec.Start, then Func.RunIn; testdata/forkserver
// with "standing") next to the same call's round trip through the fork
// server and the exec floor, as BenchmarkForkServer times them: without a
// switch, and in a holder's network and user+mount namespaces (the standing
// child joins them once, at its first request, which the figures leave
// out). Then the throughput of 16 goroutines calling at once, next to the
// fork server's. It reports the medians and the ratios of the standing
// call to the round trip and to the floor.
func BenchmarkStanding(b *testing.B) {
	if !haveReexec(b) {
		return
	}
	b.Run("none", func(b *testing.B) { benchStanding(b, "") })
	b.Run("net", func(b *testing.B) { benchStanding(b, "net "+newHolder(b, false).ns("net")) })
	b.Run("user+mnt", func(b *testing.B) {
		h := newHolder(b, true)
		benchStanding(b, "user "+h.ns("user")+" mnt "+h.ns("mnt"))
	})
	b.Run("throughput", benchStandingThroughput)
}

// standingDrivers starts the drivers of the round trip through the fork
// server, with the floor, and of the standing child.
func standingDrivers(b *testing.B, req string) (floor, fork, standing *forkSubject) {
	v := variant{now: true}
	execBin := buildGoVariant(b, "reexec", dynamicGlibc, v)
	forkBin := buildGoVariant(b, "forkserver", dynamicGlibc, v)
	d := startDriver(b, forkBin, "-floor", execBin)
	floor = &forkSubject{name: "floor", d: d, req: strings.Replace(req, "reexec", "floor", 1)}
	fork = &forkSubject{name: "fork", d: d, req: req}
	standing = &forkSubject{name: "standing", d: startDriver(b, forkBin, "standing"), req: req}
	// The first request starts the standing child: not a call's cost.
	standing.d.request(b, standing.req)
	return floor, fork, standing
}

func benchStanding(b *testing.B, ns string) {
	floor, fork, standing := standingDrivers(b, "reexec "+ns)
	all := []*forkSubject{floor, fork, standing}
	n := measureForks(b, all)
	for _, s := range all {
		distribution(b, s.name+"-ns/op", s.elapsed)
	}
	figure(b, "standing/fork-ratio", over(med(standing.elapsed), med(fork.elapsed)), n, positive)
	figure(b, "standing/floor-ratio", over(med(standing.elapsed), med(floor.elapsed)), n, positive)
}

// benchStandingThroughput times bursts of driver.BurstCalls calls from
// driver.BurstWorkers goroutines, in a standing child and through the fork
// server, and reports calls per second.
func benchStandingThroughput(b *testing.B) {
	_, fork, standing := standingDrivers(b, "burst")
	all := []*forkSubject{fork, standing}
	rates, n := burstRates(b, all)
	figure(b, "standing/fork-throughput-ratio", over(med(rates["standing"]), med(rates["fork"])), n, positive)
}
