package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Constructors, as callgrind names them: early's (gons_preinit, static in
// internal/preinit/preinit_linux.c) and thediveo/gons' (gonamespaces in the cgo
// preamble of its gons.go, which its constructor, a function named init,
// calls and which does all of its work).
const (
	earlyCtor    = "gons_preinit"
	thediveoCtor = "gonamespaces"
)

// BenchmarkConstructorInstructions counts with valgrind's callgrind the
// instructions that the constructor of early and that of thediveo/gons
// execute when no gons_* variable is set, callees included, with an
// environment of 32 variables (callgrindEnv), for each way of linking.
// The dynamic builds are go build's default, lazily bound, and counted
// twice: "lazy" as they start by default, where the dynamic linker
// resolves each C library function on its first call, inside the
// constructor for the functions it calls first; and "now" with
// LD_BIND_NOW=1, where the loader has bound them all before any
// constructor runs. Static builds bind nothing. The count is
// deterministic: the same binary and environment give the same figure on
// every run, on any machine with the same C library. Without valgrind the
// benchmark is skipped outside CI and fails in CI. It times nothing;
// ns/op is left out.
func BenchmarkConstructorInstructions(b *testing.B) {
	type mode struct {
		name    string
		l       linking
		bindNow string // the value of LD_BIND_NOW
	}
	for _, m := range []mode{
		{"glibc-dynamic-lazy", dynamicGlibc, ""},
		{"glibc-dynamic-now", dynamicGlibc, "1"},
		{"glibc-static", staticGlibc, ""},
		{"musl-static", staticMusl, ""},
	} {
		b.Run(m.name, func(b *testing.B) {
			valgrind := lookTool(b, "valgrind")
			env := callgrindEnv("LD_BIND_NOW=" + m.bindNow)
			early := callgrind(b, valgrind, buildGo(b, "early", m.l, false), earlyCtor, env)
			thediveo := callgrind(b, valgrind, buildGo(b, "thediveo", m.l, false), thediveoCtor, env)
			for b.Loop() {
			}
			b.ReportMetric(0, "ns/op")
			report(b, "early-instructions", "", float64(early), positive)
			report(b, "thediveo-instructions", "", float64(thediveo), positive)
			report(b, "early/thediveo-ratio", "", float64(early)/float64(thediveo), positive)
		})
	}
}

// callgrindEnv is the environment of the counted runs: fixed, because the
// constructors scan it, with 32 variables, about what a login shell has.
// GODEBUG is among them because callgrind 3.19 can trip over the signals of
// the Go runtime's asynchronous preemption, long after the constructor
// returned. The variable given is the loader's (LD_BIND_NOW, set or empty,
// so that each mode scans the same number of variables).
func callgrindEnv(loader string) []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash",
		"LANG=C.UTF-8", "TERM=xterm-256color", "PWD=/root",
		"GODEBUG=asyncpreemptoff=1", loader,
	}
	for i := len(env); i < 32; i++ {
		env = append(env, "BENCH_"+strconv.Itoa(i)+"=some value of a typical length")
	}
	return env
}

// counted caches the counts of this process: the benchmark function runs
// more than once, and a count does not change.
var counted = map[string]int64{}

// callgrind runs bin under callgrind with env, counting only inside fn and
// what it calls, and returns the number of instructions executed there.
func callgrind(b *testing.B, valgrind, bin, fn string, env []string) int64 {
	b.Helper()
	key := bin + " " + fn + " " + strings.Join(env, " ")
	if n, ok := counted[key]; ok {
		return n
	}
	out := filepath.Join(b.TempDir(), "callgrind.out")
	cmd := exec.Command(valgrind, "--tool=callgrind", "--callgrind-out-file="+out,
		"--toggle-collect="+fn, bin)
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("valgrind: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "totals:"); ok {
			n, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			if err != nil {
				b.Fatalf("callgrind output: %q: %v", line, err)
			}
			if n == 0 {
				b.Fatalf("callgrind counted nothing in %s: is the symbol in %s?", fn, bin)
			}
			counted[key] = n
			return n
		}
	}
	b.Fatalf("callgrind output %s has no totals line", out)
	return 0
}
