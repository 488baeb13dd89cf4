package bench

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkSwitch times a switch at start-up into each namespace type alone
// and into all eight at once. Each iteration executes, alternating:
//   - testdata/early with the gons_* variables set to a holder's
//     namespaces, and with none set;
//   - the floor (testdata/floor, C, built with gcc), which makes only the
//     open, setns and close calls of the same switches (and, for pid, the
//     fork that running inside a PID namespace takes), and with no
//     argument switches nothing;
//   - the floor with -checked, which also makes the calls of the checks
//     that early adds to a switch (an NS_GET_NSTYPE ioctl of the opened
//     file; a statfs(2) before opening a path other than /proc/PID/ns/NAME;
//     for mnt and pid the identity of its own namespace through a pidfd of
//     itself and that of the opened file; for user making itself
//     non-dumpable);
//   - testdata/thediveo the same way as early, for the types thediveo/gons
//     supports (no time; its pid switch aborts the Go runtime), and the
//     floor of just those types.
//
// Switch/*/netbind is the net switch through a bind mount of the holder's
// namespace file, the kind of path ip-netns(8) makes under /run/netns:
// early asks statfs(2) of such a path before opening it, and so does the
// floor with -checked.
//
// The cost of a switch is the median of the per-iteration differences
// between the switched and the idle run of the same binary, divided by the
// number of types switched. The times are those the subjects measure from
// their C library's start to its call of main, past every constructor and
// before the Go runtime starts (to the point of having switched, for the
// floor; see testdata/mark). That leaves out the noise of fork, exec, the
// Go runtime and exit: a switch costs microseconds, an exec milliseconds.
// Before timing, a probe built with each library checks that the same
// variables really move it into the holder's namespaces.
//
// One sub-benchmark for each way of linking (see links), the floor built
// and linked as the subjects are: dynamic ones with -z now, so that no
// lazy binding of the C library's functions falls between the marks.
// Besides the time, it reports the minor page faults per switch (the
// same per-iteration difference, of the faults of the whole process), and
// every figure with its 95 % confidence interval.
func BenchmarkSwitch(b *testing.B) {
	for _, l := range links {
		b.Run(l.timedName(), func(b *testing.B) {
			for _, t := range nsTypes {
				b.Run(t, func(b *testing.B) { benchSwitch(b, l, []string{t}, false) })
			}
			b.Run("netbind", func(b *testing.B) { benchSwitch(b, l, []string{"net"}, true) })
			b.Run("all", func(b *testing.B) { benchSwitch(b, l, nsTypes, false) })
			b.Run("target", func(b *testing.B) { benchTarget(b, l) })
		})
	}
}

// benchTarget times gons_target=PID, which joins all eight namespaces of
// the holder through one setns(2) of a pidfd, next to Switch/all, which
// joins the same namespaces through their eight paths, and next to the
// floor of a pidfd switch (testdata/floor -target PID: pidfd_open, setns,
// close and the fork for pid). Costs are per namespace, as in Switch/all.
func benchTarget(b *testing.B, l linking) {
	h := newHolder(b, true)
	env := baseEnv()
	earlyBin := buildGoVariant(b, "early", l, timed)
	floorBin := buildC(b, "floor", l)
	checkProbe(b, "probe", l, h.env(nsTypes), h, nsTypes)
	checkProbe(b, "probe", l, append(baseEnv(), "gons_target="+strconv.Itoa(h.pid)), h, nsTypes)

	idle := &subject{name: "early", path: earlyBin, env: env}
	floorIdle := &subject{name: "floor", path: floorBin, env: env}
	target := pair{idle: idle, n: len(nsTypes),
		switching: &subject{name: "early target", path: earlyBin, env: append(baseEnv(), "gons_target="+strconv.Itoa(h.pid))}}
	paths := pair{idle: idle, n: len(nsTypes),
		switching: &subject{name: "early paths", path: earlyBin, env: h.env(nsTypes)}}
	floor := pair{idle: floorIdle, n: len(nsTypes),
		switching: &subject{name: "floor target", path: floorBin, env: env, args: []string{"-target", strconv.Itoa(h.pid)}}}
	subjects := []*subject{idle, target.switching, paths.switching, floorIdle, floor.switching}

	t := alternate(b, subjects)
	n := len(t[0])
	targetCost := target.report(b, "early-target", subjects, t)
	pathsCost := paths.report(b, "early-paths", subjects, t)
	floorCost := floor.report(b, "floor-target", subjects, t)
	figure(b, "target/paths-ratio", over(targetCost, pathsCost), n, ratio)
	figure(b, "early/floor-ratio", over(targetCost, floorCost), n, ratio)
}

// thediveoTypes are the types thediveo/gons can switch in a Go program.
func thediveoTypes(types []string) []string {
	return slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "time" || t == "pid" })
}

// pair is an idle and a switching run of one binary.
type pair struct {
	idle, switching *subject
	n               int // the number of types switched
}

// cost returns the statistic "median per-switch cost of p" of the times of
// all subjects (indexed as in subjects): the median of the per-iteration
// differences of the constructor spans, divided by the number of types.
func (p *pair) cost(subjects []*subject, t [][]times) stat {
	return p.diff(subjects, t, ctorsTime)
}

// report reports the per-switch cost of p as name-ns/switch and its minor
// page faults per switch (the same statistic of the faults of the whole
// process) as name-minflt/switch, and returns the cost.
func (p *pair) report(b *testing.B, name string, subjects []*subject, t [][]times) stat {
	b.Helper()
	cost := p.cost(subjects, t)
	figure(b, name+"-ns/switch", cost, len(t[0]), positive)
	figure(b, name+"-minflt/switch", p.diff(subjects, t, minorFaults), len(t[0]), signed)
	return cost
}

func (p *pair) diff(subjects []*subject, t [][]times, which func(times) float64) stat {
	i, s := slices.Index(subjects, p.idle), slices.Index(subjects, p.switching)
	return per(med(pick(t[s], which).minus(pick(t[i], which))), p.n)
}

// benchSwitch times a switch into types, through the holder's
// /proc/PID/ns/NAME paths, or through bind mounts of them when bind is set.
func benchSwitch(b *testing.B, l linking, types []string, bind bool) {
	h := newHolder(b, len(types) > 1 || types[0] == "user")
	if bind {
		h.bind(b, types)
	}
	env := baseEnv()
	earlyBin := buildGoVariant(b, "early", l, timed)
	floorBin := buildC(b, "floor", l)
	checkProbe(b, "probe", l, h.env(types), h, types)

	floorIdle := &subject{name: "floor", path: floorBin, env: env}
	early := pair{
		idle:      &subject{name: "early", path: earlyBin, env: env},
		switching: &subject{name: "early switching", path: earlyBin, env: h.env(types)},
		n:         len(types),
	}
	floor := pair{
		idle:      floorIdle,
		switching: &subject{name: "floor switching", path: floorBin, env: env, args: h.floorArgs(types)},
		n:         len(types),
	}
	checked := pair{
		idle: floorIdle,
		switching: &subject{name: "floor switching with checks", path: floorBin, env: env,
			args: append([]string{"-checked"}, h.floorArgs(types)...)},
		n: len(types),
	}
	subjects := []*subject{early.idle, early.switching, floorIdle, floor.switching, checked.switching}

	var thediveo, tdFloor pair
	tdTypes := thediveoTypes(types)
	if len(tdTypes) > 0 {
		tdBin := buildGoVariant(b, "thediveo", l, timed)
		checkProbe(b, "probethediveo", l, h.env(tdTypes), h, tdTypes)
		thediveo = pair{
			idle:      &subject{name: "thediveo", path: tdBin, env: env},
			switching: &subject{name: "thediveo switching", path: tdBin, env: h.env(tdTypes)},
			n:         len(tdTypes),
		}
		subjects = append(subjects, thediveo.idle, thediveo.switching)
		tdFloor = floor
		if len(tdTypes) < len(types) {
			// The floor of what thediveo switches, to compare like with like.
			tdFloor = pair{
				idle: floorIdle,
				switching: &subject{name: "floor switching as thediveo", path: floorBin, env: env,
					args: h.floorArgs(tdTypes)},
				n: len(tdTypes),
			}
			subjects = append(subjects, tdFloor.switching)
		}
	} else {
		b.Logf("thediveo/gons: %s not supported (no time namespace; a pid switch aborts the Go runtime)", types[0])
	}

	t := alternate(b, subjects)
	n := len(t[0])
	earlyCost := early.report(b, "early", subjects, t)
	floorCost := floor.report(b, "floor", subjects, t)
	checkedCost := checked.report(b, "checked-floor", subjects, t)
	figure(b, "early/floor-ratio", over(earlyCost, floorCost), n, ratio)
	figure(b, "early/checked-floor-ratio", over(earlyCost, checkedCost), n, ratio)
	if len(tdTypes) > 0 {
		tdCost := thediveo.report(b, "thediveo", subjects, t)
		figure(b, "thediveo/floor-ratio", over(tdCost, tdFloor.cost(subjects, t)), n, ratio)
		if len(tdTypes) == len(types) {
			figure(b, "early/thediveo-ratio", over(earlyCost, tdCost), n, ratio)
		}
	}
}

// env returns the base environment with gons_<t> set to the holder's
// namespace of type t, for each of types.
func (h *holder) env(types []string) []string {
	env := baseEnv()
	for _, t := range types {
		env = append(env, "gons_"+t+"="+h.ns(t))
	}
	return env
}

// floorArgs returns the floor program's arguments for switching into the
// holder's namespaces of the given types, in early's default order.
func (h *holder) floorArgs(types []string) []string {
	var args []string
	for _, t := range defaultOrder {
		if slices.Contains(types, t) {
			args = append(args, t+"="+h.ns(t))
		}
	}
	return args
}

// checkProbe runs testdata/<probe>, linked as l, with env and fails the benchmark unless
// the probe reports no error and is in the holder's namespace of each of
// types.
func checkProbe(b *testing.B, probe string, l linking, env []string, h *holder, types []string) {
	b.Helper()
	cmd := exec.Command(buildGo(b, probe, l, false))
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%s: %v\n%s", probe, err, out)
	}
	in := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		if k == "error" {
			b.Fatalf("%s with %v: %s", probe, types, v)
		}
		in[k] = v
	}
	for _, t := range types {
		want, err := os.Readlink(h.procNS(t))
		if err != nil {
			b.Fatal(err)
		}
		if in[t] != want {
			b.Fatalf("%s with gons_%s=%s is in %s, want %s", probe, t, h.ns(t), in[t], want)
		}
	}
}
