package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gonsproject/gons/bench/testdata/driver"
	"github.com/gonsproject/gons/internal/testutil"
)

// BenchmarkForkServer times the round trip of the trivial typed action
// through the fork server of package reexec/forkserver (testdata/forkserver)
// next to the same call by exec (testdata/reexec, typed), thediveo/gons'
// (where it switches the same), and the exec floor: an exec of
// testdata/reexec, built without the fork server, that exits at once (an
// exec'd copy of a program with the server would start a server of its
// own). Each runs in a driver of its own that times each request; each
// iteration runs all of them, in turn. Without a switch, joining a
// network namespace, a mount namespace, and a user namespace and the mount
// namespace it owns (types only a fresh process can join); and, without a
// switch, linked statically. It reports the medians and the fork server's
// ratios to the floor, to exec and to thediveo/gons. Then the throughput
// of 16 goroutines calling at once, and what the fork server costs a
// program at start-up and in memory.
func BenchmarkForkServer(b *testing.B) {
	if !haveReexec(b) {
		return
	}
	b.Run("none", func(b *testing.B) { benchForkServer(b, dynamicGlibc, "", true) })
	b.Run("net", func(b *testing.B) { benchForkServer(b, dynamicGlibc, "net "+newHolder(b, false).ns("net"), true) })
	b.Run("mnt", func(b *testing.B) { benchForkServer(b, dynamicGlibc, "mnt "+newHolder(b, false).ns("mnt"), false) })
	b.Run("user+mnt", func(b *testing.B) {
		h := newHolder(b, true)
		benchForkServer(b, dynamicGlibc, "user "+h.ns("user")+" mnt "+h.ns("mnt"), false)
	})
	b.Run("static", func(b *testing.B) { benchForkServer(b, staticGlibc, "", false) })
	b.Run("throughput", benchForkThroughput)
	b.Run("startup", benchForkStartup)
}

// forkSubject is one way of running the action, in a driver of its own.
type forkSubject struct {
	name    string
	d       *driverProc
	req     string
	elapsed series
}

// forkDrivers starts the drivers of the fork server, of exec and, if
// asked, of thediveo/gons, linked as l, each to serve req.
func forkDrivers(b *testing.B, l linking, req string, thediveo bool) (floor, fork, exec *forkSubject, all []*forkSubject) {
	v := variant{now: l == dynamicGlibc}
	execBin := buildGoVariant(b, "reexec", l, v)
	forkBin := buildGoVariant(b, "forkserver", l, v)
	d := startDriver(b, forkBin, "-floor", execBin)
	floor = &forkSubject{name: "floor", d: d, req: strings.Replace(req, "reexec", "floor", 1)}
	fork = &forkSubject{name: "fork", d: d, req: req}
	exec = &forkSubject{name: "exec", d: startDriver(b, execBin, "func"), req: req}
	all = []*forkSubject{floor, fork, exec}
	if thediveo {
		bin := buildGoVariant(b, "reexecthediveo", l, v)
		all = append(all, &forkSubject{name: "thediveo", d: startDriver(b, bin), req: req})
	}
	return floor, fork, exec, all
}

// measureForks runs every subject's request once per iteration, in turn, and
// returns the number of iterations.
func measureForks(b *testing.B, subjects []*forkSubject) int {
	return iterate(b, func(i int) {
		for j := range subjects {
			s := subjects[(i+j)%len(subjects)]
			s.elapsed = append(s.elapsed, float64(s.d.request(b, strings.TrimSpace(s.req)).elapsed))
		}
	})
}

func benchForkServer(b *testing.B, l linking, ns string, thediveo bool) {
	floor, fork, exec, all := forkDrivers(b, l, "reexec "+ns, thediveo)
	n := measureForks(b, all)
	for _, s := range all {
		distribution(b, s.name+"-ns/op", s.elapsed)
	}
	for _, s := range all {
		if s != fork {
			figure(b, "fork/"+s.name+"-ratio", over(med(fork.elapsed), med(s.elapsed)), n, ratio)
		}
	}
	figure(b, "exec/floor-ratio", over(med(exec.elapsed), med(floor.elapsed)), n, ratio)
}

// benchForkThroughput times bursts of driver.BurstCalls calls from
// driver.BurstWorkers goroutines and reports round trips per second.
func benchForkThroughput(b *testing.B) {
	_, _, _, all := forkDrivers(b, dynamicGlibc, "burst", true)
	all = all[1:] // no floor
	rates, n := burstRates(b, all)
	figure(b, "fork/exec-throughput-ratio", over(med(rates["fork"]), med(rates["exec"])), n, ratio)
	figure(b, "fork/thediveo-throughput-ratio", over(med(rates["fork"]), med(rates["thediveo"])), n, ratio)
	figure(b, "exec/thediveo-throughput-ratio", over(med(rates["exec"]), med(rates["thediveo"])), n, ratio)
}

// benchForkStartup times an exec of the driver built with the fork server
// against one built without (both exit at once: this is what importing the
// package costs a program at start-up), and reports the idle server's
// resident and proportional set sizes.
func benchForkStartup(b *testing.B) {
	v := variant{now: true}
	execBin := buildGoVariant(b, "reexec", dynamicGlibc, v)
	forkBin := buildGoVariant(b, "forkserver", dynamicGlibc, v)
	without := &forkSubject{name: "without", d: startDriver(b, forkBin, "-floor", execBin), req: "floor"}
	with := &forkSubject{name: "with", d: startDriver(b, forkBin, "-floor", forkBin), req: "floor"}
	n := measureForks(b, []*forkSubject{without, with})
	distribution(b, "without-ns/exec", without.elapsed)
	distribution(b, "with-ns/exec", with.elapsed)
	figure(b, "with/without-ratio", over(med(with.elapsed), med(without.elapsed)), n, ratio)
	rss, pss := serverMemory(b, with.d)
	b.ReportMetric(rss, "server-rss-bytes")
	b.ReportMetric(pss, "server-pss-bytes")
}

// serverMemory returns the resident and proportional set sizes of the
// fork server of driver d, its only child between requests.
func serverMemory(b *testing.B, d *driverProc) (rss, pss float64) {
	b.Helper()
	kids, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", d.cmd.Process.Pid))
	var pids []string
	for _, k := range kids {
		c, _ := os.ReadFile(k)
		pids = append(pids, strings.Fields(string(c))...)
	}
	if len(pids) != 1 {
		b.Fatalf("the driver has children %v, want its fork server alone", pids)
	}
	sm, err := os.ReadFile("/proc/" + pids[0] + "/smaps_rollup")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(sm), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == "kB" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "Rss:":
				rss = kb * 1024
			case "Pss:":
				pss = kb * 1024
			}
		}
	}
	if rss <= 0 || pss <= 0 {
		b.Fatalf("no Rss or Pss in the server's smaps_rollup:\n%s", sm)
	}
	return rss, pss
}

// BenchmarkForkServerSyscalls counts the system calls of one round trip
// with strace -f -c, in the driver and every process it starts: through
// the fork server (the server's included), by exec, thediveo/gons', and
// the exec floor. A driver serves forkCountRuns requests, and is counted
// again serving none: the difference, per request. Counted once, whatever
// -benchtime says.
func BenchmarkForkServerSyscalls(b *testing.B) {
	if !haveReexec(b) {
		return
	}
	strace := testutil.RequireTool(b, "strace")
	v := variant{now: true}
	execBin := buildGoVariant(b, "reexec", dynamicGlibc, v)
	forkBin := buildGoVariant(b, "forkserver", dynamicGlibc, v)
	thediveo := buildGoVariant(b, "reexecthediveo", dynamicGlibc, v)
	subjects := []struct {
		name string
		argv []string
		req  string
	}{
		{"floor", []string{forkBin, "-floor", execBin}, "floor"},
		{"fork", []string{forkBin, "-floor", execBin}, "reexec"},
		{"exec", []string{execBin, "func"}, "reexec"},
		{"thediveo", []string{thediveo}, "reexec"},
	}
	// Counts do not vary as times do: one count of each, whatever the
	// iterations asked for, which would each take seconds under strace.
	calls := make([]float64, len(subjects))
	for i, s := range subjects {
		calls[i] = float64(countCalls(b, strace, s.argv, s.req, forkCountRuns)-countCalls(b, strace, s.argv, s.req, 0)) / forkCountRuns
	}
	for b.Loop() {
	}
	for i, s := range subjects {
		b.ReportMetric(calls[i], s.name+"-syscalls/op")
	}
}

// forkCountRuns is how many requests a counted driver serves.
const forkCountRuns = 50

// countCalls runs the driver argv under strace -f -c, serving runs
// requests req, and returns the number of system calls it counted.
func countCalls(b *testing.B, strace string, argv []string, req string, runs int) int {
	b.Helper()
	out := filepath.Join(b.TempDir(), "strace")
	cmd := exec.Command(strace, append([]string{"-f", "-c", "-o", out, "--"}, argv...)...)
	cmd.Env = baseEnv()
	cmd.Stdin = strings.NewReader(strings.Repeat(req+"\n", runs))
	if o, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v: %v\n%s", cmd.Args, err, o)
	}
	summary, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range bytes.Split(summary, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) >= 5 && f[len(f)-1] == "total" {
			n, err := strconv.Atoi(f[3])
			if err == nil {
				return n
			}
		}
	}
	b.Fatalf("no total in strace's summary:\n%s", summary)
	return 0
}

// burstRates times the bursts of driver.BurstCalls calls of the subjects
// in turn, reports each one's calls per second, and returns those rates
// by subject's name, with the number of iterations.
func burstRates(b *testing.B, all []*forkSubject) (map[string]series, int) {
	n := measureForks(b, all)
	rates := map[string]series{}
	for _, s := range all {
		r := make(series, len(s.elapsed))
		for i, ns := range s.elapsed {
			r[i] = driver.BurstCalls / (ns / 1e9)
		}
		rates[s.name] = r
		figure(b, s.name+"-calls/s", med(r), n, positive)
	}
	return rates, n
}
