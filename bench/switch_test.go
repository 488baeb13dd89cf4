package bench

import (
	"os"
	"os/exec"
	"slices"
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
//     argument exits at once;
//   - testdata/thediveo the same way, for the types thediveo/gons
//     supports (no time; its pid switch aborts the Go runtime).
//
// The cost of a switch is the median of the per-iteration differences
// between the switched and the idle run of the same binary, divided by the
// number of types switched. The times are those the subjects measure from
// their C library's start to its call of main, past every constructor and
// before the Go runtime starts (to the point of having switched, for the
// floor; see testdata/mark). That leaves out the noise of fork, exec, the
// Go runtime and exit: a switch costs microseconds, an exec milliseconds. Before timing, a probe built with each library
// checks that the same variables really move it into the holder's
// namespaces.
func BenchmarkSwitch(b *testing.B) {
	for _, t := range nsTypes {
		b.Run(t, func(b *testing.B) { benchSwitch(b, []string{t}) })
	}
	b.Run("all", func(b *testing.B) { benchSwitch(b, nsTypes) })
}

// thediveoTypes are the types thediveo/gons can switch in a Go program.
func thediveoTypes(types []string) []string {
	return slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "time" || t == "pid" })
}

func benchSwitch(b *testing.B, types []string) {
	h := getHolder(b, "root")
	if len(types) > 1 || types[0] == "user" {
		h = getHolder(b, "user")
	}
	env := baseEnv()
	earlyBin := buildGo(b, "early", timedGlibc, false)
	floorBin := buildC(b, "floor")
	earlyEnv := h.env(types)
	checkProbe(b, "probe", earlyEnv, h, types)
	subjects := []*subject{
		{name: "early", path: earlyBin, env: env},
		{name: "early switching", path: earlyBin, env: earlyEnv},
		{name: "floor", path: floorBin, env: env},
		{name: "floor switching", path: floorBin, env: env, args: h.floorArgs(types)},
	}
	tdTypes := thediveoTypes(types)
	if len(tdTypes) > 0 {
		tdBin := buildGo(b, "thediveo", timedGlibc, false)
		tdEnv := h.env(tdTypes)
		checkProbe(b, "probethediveo", tdEnv, h, tdTypes)
		subjects = append(subjects,
			&subject{name: "thediveo", path: tdBin, env: env},
			&subject{name: "thediveo switching", path: tdBin, env: tdEnv})
		if len(tdTypes) < len(types) {
			// The floor of what thediveo switches, to compare like with like.
			subjects = append(subjects, &subject{
				name: "floor switching as thediveo", path: floorBin, env: env, args: h.floorArgs(tdTypes),
			})
		}
	} else {
		b.Logf("thediveo/gons: %s not supported (no time namespace; a pid switch aborts the Go runtime)", types[0])
	}

	t := alternate(b, subjects)
	s := make([]samples, len(t))
	for i := range t {
		s[i] = pick(t[i], ctorsTime)
	}
	n := float64(len(types))
	early := s[1].minus(s[0]).median() / n
	floor := s[3].minus(s[2]).median() / n
	b.ReportMetric(early, "early-ns/switch")
	b.ReportMetric(floor, "floor-ns/switch")
	b.ReportMetric(ratio(early, floor), "early/floor-ratio")
	if len(tdTypes) > 0 {
		tn := float64(len(tdTypes))
		td := s[5].minus(s[4]).median() / tn
		tdFloor := floor
		if len(s) > 6 {
			tdFloor = s[6].minus(s[2]).median() / tn
		}
		b.ReportMetric(td, "thediveo-ns/switch")
		b.ReportMetric(ratio(td, tdFloor), "thediveo/floor-ratio")
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

// checkProbe runs testdata/<probe> with env and fails the benchmark unless
// the probe reports no error and is in the holder's namespace of each of
// types.
func checkProbe(b *testing.B, probe string, env []string, h *holder, types []string) {
	b.Helper()
	cmd := exec.Command(buildGo(b, probe, dynamicGlibc, false))
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
		want, err := os.Readlink(h.ns(t))
		if err != nil {
			b.Fatal(err)
		}
		if in[t] != want {
			b.Fatalf("%s with gons_%s=%s is in %s, want %s", probe, t, h.ns(t), in[t], want)
		}
	}
}
