package bench

import (
	"strconv"
	"testing"

	"github.com/gonsproject/gons/internal/testutil"
)

// BenchmarkNsexec times running /bin/true in the network namespace of a
// holder, and in all its namespaces that differ (by Target, nsenter -a),
// through package nsexec with the fork server (testdata/nsexecfork) and
// without it (testdata/nsexec), next to util-linux's nsenter run by
// os/exec and, as the floor, exec.Command("/bin/true") in no namespace at
// all, and nsexec's default route, the direct start from the calling
// thread (in the net namespace; in all of them, which include a time and a
// PID namespace, it falls back to exec). Each iteration runs every subject
// once, in turn, each timed inside its driver. It reports the medians and
// the ratios the package's targets are stated in: fork/floor,
// fork/nsenter, exec/nsenter, and direct/floor, direct/nsenter.
func BenchmarkNsexec(b *testing.B) {
	testutil.RequireTool(b, "nsenter")
	h := newHolder(b, false)
	b.Run("net", func(b *testing.B) { benchNsexec(b, h, "net") })
	b.Run("all", func(b *testing.B) { benchNsexec(b, h, "all") })
}

func benchNsexec(b *testing.B, h *holder, types string) {
	v := variant{now: true}
	fork := startDriver(b, buildGoVariant(b, "nsexecfork", dynamicGlibc, v))
	exec := startDriver(b, buildGoVariant(b, "nsexec", dynamicGlibc, v))
	pid := strconv.Itoa(h.pid)
	floor := &forkSubject{name: "floor", d: fork, req: "floor"}
	forked := &forkSubject{name: "fork", d: fork, req: "nsexec " + pid + " " + types}
	execd := &forkSubject{name: "exec", d: exec, req: "nsexec " + pid + " " + types}
	nsenter := &forkSubject{name: "nsenter", d: exec, req: "nsenter " + pid + " " + types}
	direct := &forkSubject{name: "direct", d: fork, req: "direct " + pid + " " + types}
	all := []*forkSubject{floor, forked, execd, nsenter, direct}
	n := measureForks(b, all)
	for _, s := range all {
		distribution(b, s.name+"-ns/op", s.elapsed)
	}
	figure(b, "fork/floor-ratio", over(med(forked.elapsed), med(floor.elapsed)), n, ratio)
	figure(b, "fork/nsenter-ratio", over(med(forked.elapsed), med(nsenter.elapsed)), n, ratio)
	figure(b, "exec/nsenter-ratio", over(med(execd.elapsed), med(nsenter.elapsed)), n, ratio)
	figure(b, "direct/floor-ratio", over(med(direct.elapsed), med(floor.elapsed)), n, ratio)
	figure(b, "direct/nsenter-ratio", over(med(direct.elapsed), med(nsenter.elapsed)), n, ratio)
}
