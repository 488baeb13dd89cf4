package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Constructors, as callgrind names them: early's (static in
// early/preinit_linux.c) and thediveo/gons' (init in the cgo preamble of
// gons.go, which calls gonamespaces).
const (
	earlyCtor    = "gons_preinit"
	thediveoCtor = "init"
)

// BenchmarkConstructorInstructions counts with valgrind's callgrind the
// instructions that the constructor of early and that of thediveo/gons
// execute when no gons_* variable is set, callees included (the dynamic
// linker's resolution of the library functions they call among them), with
// an environment of 32 variables (callgrindEnv). The count is
// deterministic: the same binary and environment give the same figure on
// every run, on any machine with the same C library. Without
// valgrind the benchmark is skipped outside CI and fails in CI. It times
// nothing; ns/op is left out.
func BenchmarkConstructorInstructions(b *testing.B) {
	valgrind := lookTool(b, "valgrind")
	early := callgrind(b, valgrind, buildGo(b, "early", timedGlibc, false), earlyCtor)
	thediveo := callgrind(b, valgrind, buildGo(b, "thediveo", timedGlibc, false), thediveoCtor)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(early), "early-instructions")
	b.ReportMetric(float64(thediveo), "thediveo-instructions")
	b.ReportMetric(ratio(float64(early), float64(thediveo)), "early/thediveo-ratio")
}

// callgrindEnv is the environment of the counted runs: fixed, because the
// constructors scan it, with 32 variables, about what a login shell has.
// GODEBUG is among them because callgrind 3.19 can trip over the signals of
// the Go runtime's asynchronous preemption, long after the constructor
// returned.
func callgrindEnv() []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash",
		"LANG=C.UTF-8", "TERM=xterm-256color", "PWD=/root",
		"GODEBUG=asyncpreemptoff=1",
	}
	for i := len(env); i < 32; i++ {
		env = append(env, "BENCH_"+strconv.Itoa(i)+"=some value of a typical length")
	}
	return env
}

// counted caches the counts of this process: the benchmark function runs
// more than once, and a count does not change.
var counted = map[string]int64{}

// callgrind runs bin under callgrind, counting only inside fn and what it
// calls, and returns the number of instructions executed there.
func callgrind(b *testing.B, valgrind, bin, fn string) int64 {
	b.Helper()
	if n, ok := counted[bin+" "+fn]; ok {
		return n
	}
	out := filepath.Join(b.TempDir(), "callgrind.out")
	cmd := exec.Command(valgrind, "--tool=callgrind", "--callgrind-out-file="+out,
		"--toggle-collect="+fn, bin)
	cmd.Env = callgrindEnv()
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
			counted[bin+" "+fn] = n
			return n
		}
	}
	b.Fatalf("callgrind output %s has no totals line", out)
	return 0
}
