package bench

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var (
	update = flag.Bool("update", false, "TestTable: rewrite README.md's generated tables from the results file")
	// measure is how the README's figures are made: run every benchmark
	// of this package, -count times, into the results file.
	measure     = flag.Bool("measure", false, "TestTable: first run the benchmarks into the results file (as root)")
	measureArgs = flag.String("measure-args", "-test.benchtime=300x -test.count=3", "TestTable: the benchmark flags of -measure")
	resultsPath = flag.String("results", "testdata/results.txt", "TestTable: the benchmark output the tables are made from")
)

// The README's tables are made from the results file by the lists below:
// headline, the table at the top, one row per figure and one column per
// way of linking; and details, the tables of every figure further down.
// To add a figure, add a row (its benchmark, its metric, how to write it
// and, where there is one, its target), run the benchmark into the results
// file and regenerate: go test -run TestTable -measure -update.

// headline is the table at the top of the README.
var headline = []headlineRow{
	{"Idle constructor, instructions, `early`", "ConstructorInstructions/%s", instrLinks, "early-instructions", count, "≤ 1000"},
	{"Idle constructor, instructions, `early`/thediveo", "ConstructorInstructions/%s", instrLinks, "early/thediveo-ratio", ratio3, "≤ 1"},
	{"Idle constructor, time it adds to a start", "Startup/%s", timedLinks, "early-ctor-ns/exec", micro, ""},
	{"Idle constructor, page faults it adds to a start", "Startup/%s", timedLinks, "early-added-minflt/exec", faults, ""},
	{"Start-up, exec time `early`/cgo hello", "Startup/%s", timedLinks, "early/cgo-ratio", ratio3, "≤ 1.01"},
	{"Per switch `early`/floor, cgroup", "Switch/%s/cgroup", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, ipc", "Switch/%s/ipc", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, mnt", "Switch/%s/mnt", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, net", "Switch/%s/net", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, pid", "Switch/%s/pid", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, time", "Switch/%s/time", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, user", "Switch/%s/user", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, uts", "Switch/%s/uts", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, net by a bind mount", "Switch/%s/netbind", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, all eight", "Switch/%s/all", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Per switch `early`/floor, `gons_target`", "Switch/%s/target", timedLinks, "early/floor-ratio", ratio2, "≤ 1.05"},
	{"Reexec round trip `gons`/exec floor", "Reexec/glibc-dynamic-znow/none", dynamicOnly, "gons/floor-ratio", ratio3, "≤ 1.05"},
	{"Reexec round trip `gons`/thediveo", "Reexec/glibc-dynamic-znow/none", dynamicOnly, "gons/thediveo-ratio", ratio3, "≤ 1"},
	{"Reexec round trip `gons-func`/thediveo", "Reexec/glibc-dynamic-znow/none", dynamicOnly, "gons-func/thediveo-ratio", ratio3, "≤ 1"},
	{"Reexec round trip through `reexec/forkserver`/exec floor", "ForkServer/none", dynamicOnly, "fork/floor-ratio", ratio3, "≤ 0.8"},
	{"Reexec round trip through `reexec/forkserver`/exec floor, net", "ForkServer/net", dynamicOnly, "fork/floor-ratio", ratio3, "≤ 0.8"},
	{"Reexec round trip through `reexec/forkserver`/thediveo", "ForkServer/none", dynamicOnly, "fork/thediveo-ratio", ratio3, "≤ 1"},
	{"Reexec round trip through `reexec/forkserver` with `ResultFirst`/exec floor", "ResultFirst/none", dynamicOnly, "resultfirst/floor-ratio", ratio3, "≤ 0.7"},
	{"Call in a standing child (`reexec.Start`)/round trip through `reexec/forkserver`", "Standing/none", dynamicOnly, "standing/fork-ratio", ratio3, "≤ 0.05"},
	{"Call in a standing child in a net namespace/round trip through `reexec/forkserver`", "Standing/net", dynamicOnly, "standing/fork-ratio", ratio3, "≤ 0.05"},
	{"`/bin/true` in a net namespace by `nsexec` through `reexec/forkserver`/exec floor", "Nsexec/net", dynamicOnly, "fork/floor-ratio", ratio3, "≤ 1.05"},
	{"`/bin/true` in a net namespace by `nsexec` through `reexec/forkserver`/`nsenter -n`", "Nsexec/net", dynamicOnly, "fork/nsenter-ratio", ratio3, "≤ 0.6"},
	{"`/bin/true` in a net namespace by `nsexec` by exec/`nsenter -n`", "Nsexec/net", dynamicOnly, "exec/nsenter-ratio", ratio3, "≤ 1"},
	{"`/bin/true` in a net namespace by `nsexec` from the calling thread/exec floor", "Nsexec/net", dynamicOnly, "direct/floor-ratio", ratio3, "≤ 1.05"},
	{"`/bin/true` in a net namespace by `nsexec` from the calling thread/`nsenter -n`", "Nsexec/net", dynamicOnly, "direct/nsenter-ratio", ratio3, "≤ 0.6"},
	{"`/bin/true` in all namespaces by `nsexec` through `reexec/forkserver`/exec floor", "Nsexec/all", dynamicOnly, "fork/floor-ratio", ratio3, "≤ 1.05"},
	{"`/bin/true` in all namespaces by `nsexec` through `reexec/forkserver`/`nsenter -a`", "Nsexec/all", dynamicOnly, "fork/nsenter-ratio", ratio3, "≤ 0.6"},
	{"`/bin/true` in all namespaces by `nsexec` by exec/`nsenter -a`", "Nsexec/all", dynamicOnly, "exec/nsenter-ratio", ratio3, "≤ 1"},
	{"Call in a net namespace, `nsthread`/vishvananda/netns", "Thread/net", dynamicOnly, "thread/netns-ratio", ratio2, "≤ 1.05"},
	{"Call in a net namespace, `nsthread`/`reexec` round trip", "Thread/net", dynamicOnly, "thread/reexec-ratio", ratio4, "≤ 0.02"},
	{"Call in four namespaces, `nsthread`/`reexec` round trip", "Thread/all4", dynamicOnly, "thread/reexec-ratio", ratio4, "≤ 0.02"},
	{"Call reading a file in a mount namespace, `nsthread`/`reexec` round trip", "Thread/mnt", dynamicOnly, "thread/reexec-ratio", ratio4, "≤ 0.03"},
	{"Call reading a file in a mount namespace, `nsthread`/round trip through `reexec/forkserver`", "Thread/mnt", dynamicOnly, "thread/forkserver-ratio", ratio4, "≤ 0.05"},
	{"Size `early` adds, file bytes", "Size/%s", sizeLinks, "early-file-bytes", count, ""},
	{"Size `early` adds, loaded bytes", "Size/%s", sizeLinks, "early-loaded-bytes", count, "≤ 8192 static"},
	{"Size `early` + `status.Err` adds, loaded bytes", "Size/%s", sizeLinks, "early+status-loaded-bytes", count, "≤ 20480 static"},
	{"Size budget of the footprint test, `early`, loaded bytes", "Size/%s", staticSizeLinks, "early-budget-bytes", count, ""},
	{"Size budget of the footprint test, `early` + `status.Err`", "Size/%s", staticSizeLinks, "early+status-budget-bytes", count, ""},
	{"Harness A/A, exec time", "Harness/%s/startup", timedLinks, "a2/a-ratio", ratio3, "= 1"},
	{"Harness A/A, per switch", "Harness/%s/switch", timedLinks, "a2/a-ratio", ratio3, "= 1"},
	{"Harness known cost, measured/own clock", "Harness/%s/startup", timedLinks, "calls/own-ratio", ratio3, "= 1"},
}

// headlineRow is one figure of the headline table: the benchmark, with %s
// for the name a way of linking has in it (names), and the metric.
type headlineRow struct {
	label, bench string
	names        [3]string
	metric       string
	format       func(float64) string
	target       string // "≤ X", "≤ X static" (the static columns only), "= X", or none
}

// benchOf returns the benchmark of the row's column i, or false for an
// empty column.
func (row *headlineRow) benchOf(i int) (string, bool) {
	if row.names[i] == "" {
		return "", false
	}
	if strings.Contains(row.bench, "%s") {
		return fmt.Sprintf(row.bench, row.names[i]), true
	}
	return row.bench, true
}

// The names of the three ways of linking in the benchmarks, in the order
// of links; an empty name leaves its column empty.
var (
	timedLinks = [3]string{timedNames[0], timedNames[1], timedNames[2]}
	sizeLinks  = [3]string{linkingNames[0], linkingNames[1], linkingNames[2]}
	// The static builds alone, which the footprint test holds to budgets.
	staticSizeLinks = [3]string{"", linkingNames[1], linkingNames[2]}
	instrLinks      = [3]string{"glibc-dynamic-lazy", "glibc-static", "musl-static"}
	dynamicOnly     = [3]string{timedNames[0], "", ""}
)

// detail is a table of the figures of one benchmark: a row for each
// sub-benchmark (bench with %s for the row's name), a column for each
// metric.
type detail struct {
	title, bench string
	rows         []string
	cols         []detailCol
}

// detailCol is a column of a detail: its header, its metric and how to
// write it. A column with a benchmark of its own takes its figures from
// there, and its metric has %s for the row's name.
type detailCol struct {
	header, metric string
	format         func(float64) string
	bench          string
}

// benchMetric returns the benchmark and metric of the column's cell in row.
func (c *detailCol) benchMetric(d *detail, row string) (string, string) {
	if c.bench != "" {
		return c.bench, fmt.Sprintf(c.metric, row)
	}
	if !strings.Contains(d.bench, "%s") {
		return d.bench, c.metric // one benchmark, one row
	}
	return fmt.Sprintf(d.bench, row), c.metric
}

var switchRows = append(slices.Clone(nsTypes), "netbind", "all")

// details are the tables of every figure, in the README's order.
var details = func() []detail {
	var d []detail
	d = append(d, detail{"Startup, nothing set", "Startup/%s", timedLinks[:], []detailCol{
		col("cgo hello", "cgo-ns/exec", milli), col("+ `early`", "early-ns/exec", milli),
		col("+ thediveo", "thediveo-ns/exec", milli),
		col("`early`/cgo", "early/cgo-ratio", ratio3), col("thediveo/cgo", "thediveo/cgo-ratio", ratio3),
		col("`early` constructor adds", "early-ctor-ns/exec", micro),
		col("thediveo constructor adds", "thediveo-ctor-ns/exec", micro),
		col("faults cgo", "cgo-minflt/exec", faults), col("faults `early`", "early-minflt/exec", faults),
		col("faults thediveo", "thediveo-minflt/exec", faults),
		col("faults `early` adds", "early-added-minflt/exec", faults),
		col("faults thediveo adds", "thediveo-added-minflt/exec", faults),
	}})
	d = append(d, detail{"Constructor instructions, nothing set (callgrind, 32 variables)",
		"ConstructorInstructions/%s", []string{"glibc-dynamic-lazy", "glibc-dynamic-now", "glibc-static", "musl-static"},
		[]detailCol{
			col("`early`", "early-instructions", count), col("thediveo/gons", "thediveo-instructions", count),
			col("`early`/thediveo", "early/thediveo-ratio", ratio3),
		}})
	for _, l := range links {
		d = append(d, detail{"Switch, per switch, " + l.timedName(), "Switch/" + l.timedName() + "/%s", switchRows, []detailCol{
			col("`early`", "early-ns/switch", micro), col("floor", "floor-ns/switch", micro),
			col("`early`/floor", "early/floor-ratio", ratio2),
			col("floor with checks", "checked-floor-ns/switch", micro),
			col("`early`/checked floor", "early/checked-floor-ratio", ratio2),
			col("thediveo", "thediveo-ns/switch", micro), col("thediveo/floor", "thediveo/floor-ratio", ratio2),
			col("`early`/thediveo", "early/thediveo-ratio", ratio2),
			col("faults `early`", "early-minflt/switch", faults), col("faults floor", "floor-minflt/switch", faults),
			col("faults checked floor", "checked-floor-minflt/switch", faults),
		}})
	}
	d = append(d, detail{"Switch by PID (`gons_target`), per namespace", "Switch/%s/target", timedLinks[:], []detailCol{
		col("target", "early-target-ns/switch", micro), col("the eight by path", "early-paths-ns/switch", micro),
		col("target/paths", "target/paths-ratio", ratio2),
		col("floor: pidfd_open, setns, close, fork", "floor-target-ns/switch", micro),
		col("`early`/floor", "early/floor-ratio", ratio2),
		col("faults target", "early-target-minflt/switch", faults), col("faults floor", "floor-target-minflt/switch", faults),
	}})
	for _, lib := range []string{"gons", "gons-func", "thediveo"} {
		cols := []detailCol{
			col("exec floor", lib+"-floor-ns/exec", milli), col("round trip", lib+"-ns/reexec", milli),
			col("ratio to floor", lib+"/floor-ratio", ratio3),
		}
		if lib != "thediveo" {
			cols = append(cols, col("ratio to thediveo", lib+"/thediveo-ratio", ratio3))
		}
		cols = append(cols, col("allocs", lib+"-allocs/reexec", count),
			col("faults floor", lib+"-floor-minflt/exec", faults),
			col("faults round trip", lib+"-minflt/reexec", faults))
		d = append(d, detail{"Reexec round trip, " + lib + ", glibc-dynamic-znow", "Reexec/" + timedNames[0] + "/%s", []string{"none", "net"}, cols})
	}
	d = append(d, detail{"Fork server round trip, `gons-func` (thediveo/gons: its plain action), glibc-dynamic-znow except static", "ForkServer/%s", []string{"none", "net", "mnt", "user+mnt", "static"}, []detailCol{
		col("fork server", "fork-ns/op", milli), col("exec", "exec-ns/op", milli), col("exec floor", "floor-ns/op", milli),
		col("thediveo", "thediveo-ns/op", milli),
		col("fork server/floor", "fork/floor-ratio", ratio3), col("fork server/exec", "fork/exec-ratio", ratio3),
		col("fork server/thediveo", "fork/thediveo-ratio", ratio3), col("exec/floor", "exec/floor-ratio", ratio3),
	}})
	d = append(d, detail{"Round trip through the fork server with `ResultFirst` (returns once the result is in, reaps in the background), glibc-dynamic-znow", "ResultFirst/%s", []string{"none", "net"}, []detailCol{
		col("result first", "resultfirst-ns/op", milli), col("fork server", "fork-ns/op", milli), col("exec floor", "floor-ns/op", milli),
		col("result first/floor", "resultfirst/floor-ratio", ratio3), col("result first/fork server", "resultfirst/fork-ratio", ratio3),
		col("fork server/floor", "fork/floor-ratio", ratio3),
	}})
	d = append(d, detail{"Fork server: 16 goroutines at once, round trips per second", "ForkServer/%s", []string{"throughput"}, []detailCol{
		col("fork server", "fork-calls/s", count), col("exec", "exec-calls/s", count), col("thediveo", "thediveo-calls/s", count),
		col("fork server/exec", "fork/exec-throughput-ratio", ratio3),
		col("fork server/thediveo", "fork/thediveo-throughput-ratio", ratio3),
		col("exec/thediveo", "exec/thediveo-throughput-ratio", ratio3),
	}})
	d = append(d, detail{"Standing child (`reexec.Start`, `Func.RunIn`): a call, next to the fork server's round trip, glibc-dynamic-znow", "Standing/%s", []string{"none", "net", "user+mnt"}, []detailCol{
		col("standing call", "standing-ns/op", micro), col("fork server round trip", "fork-ns/op", milli),
		col("exec floor", "floor-ns/op", milli),
		col("standing/fork server", "standing/fork-ratio", ratio3), col("standing/floor", "standing/floor-ratio", ratio3),
	}})
	d = append(d, detail{"Standing child: 16 goroutines at once, calls per second", "Standing/%s", []string{"throughput"}, []detailCol{
		col("standing", "standing-calls/s", count), col("fork server", "fork-calls/s", count),
		col("standing/fork server", "standing/fork-throughput-ratio", ratio3),
	}})
	d = append(d, detail{"Fork server: what importing it costs a program", "ForkServer/%s", []string{"startup"}, []detailCol{
		col("exec, with", "with-ns/exec", milli), col("exec, without", "without-ns/exec", milli),
		col("with/without", "with/without-ratio", ratio3),
		col("idle server RSS, bytes", "server-rss-bytes", count), col("idle server PSS, bytes", "server-pss-bytes", count),
	}})
	d = append(d, detail{"System calls per round trip (strace -f -c), `gons-func` (thediveo/gons: its plain action)", "ForkServerSyscalls", []string{"none"}, []detailCol{
		col("fork server", "fork-syscalls/op", count), col("exec", "exec-syscalls/op", count),
		col("exec floor", "floor-syscalls/op", count), col("thediveo", "thediveo-syscalls/op", count),
	}})
	d = append(d, detail{"Thread: a call inside namespaces (mnt: reading a file there, on a thread discarded afterwards), glibc-dynamic-znow", "Thread/%s", []string{"net", "uts", "all4", "mnt"}, []detailCol{
		col("`nsthread` by path", "thread-ns/call", micro), col("by PID", "threadpid-ns/call", micro),
		col("netns", "netns-ns/call", micro), col("`nsthread`/netns", "thread/netns-ratio", ratio2),
		col("`nsthread`, locked caller", "threadlocked-ns/call", micro),
		col("locked caller/netns", "threadlocked/netns-ratio", ratio2),
		col("`InProcess`", "inprocess-ns/call", micro), col("`InProcess`/`nsthread`", "inprocess/thread-ratio", ratio2),
		col("`reexec` round trip", "reexec-ns/call", milli), col("`nsthread`/`reexec`", "thread/reexec-ratio", ratio4),
		col("fork server round trip", "forkserver-ns/call", milli), col("`nsthread`/fork server", "thread/forkserver-ratio", ratio4),
		col("allocs by path", "thread-allocs/call", count), col("allocs by PID", "threadpid-allocs/call", count),
		col("allocs netns", "netns-allocs/call", count), col("allocs `InProcess`", "inprocess-allocs/call", count),
	}})
	d = append(d, detail{"Thread: 16 goroutines at once, each into its own holder's four namespaces (concurrent16) or mount namespace (concurrent16mnt), checked in every call", "Thread/%s", []string{"concurrent16", "concurrent16mnt"}, []detailCol{
		col("16 at once, per call", "concurrent-ns/call", micro), col("one goroutine, per call", "sequential-ns/call", micro),
		col("ratio", "concurrent/sequential-ratio", ratio2), col("calls checked", "checked-calls", count),
	}})
	var size []detailCol
	for _, l := range links {
		size = append(size, detailCol{l.String() + " file", "%s-file-bytes", count, "Size/" + l.String()},
			detailCol{l.String() + " loaded", "%s-loaded-bytes", count, "Size/" + l.String()})
	}
	d = append(d, detail{"Size of a stripped cgo hello world (base) and what each adds, bytes", "",
		[]string{"base", "early", "early+status", "reexec", "thediveo", "thediveo+status", "thediveo-reexec"}, size})
	d = append(d, detail{"Harness", "Harness/%s", []string{
		timedNames[0] + "/startup", timedNames[1] + "/startup", timedNames[2] + "/startup",
		timedNames[0] + "/switch", timedNames[1] + "/switch", timedNames[2] + "/switch",
	}, []detailCol{
		col("A/A ratio", "a2/a-ratio", ratio3), col("A/A constructor difference", "a2-a-ctor-ns/exec", micro),
		col("known cost, measured", "calls-ctor-ns/exec", micro), col("known cost, own clock", "calls-own-ns/exec", micro),
		col("measured/own", "calls/own-ratio", ratio3), col("per call", "calls-ns/call", nano),
		col("known cost in exec time", "calls-exec-ns/exec", micro),
	}})
	return d
}()

// col is a column of a detail with the detail's benchmark.
func col(header, metric string, format func(float64) string) detailCol {
	return detailCol{header: header, metric: metric, format: format}
}

func count(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "−" + s
	}
	return s
}
func ratio2(v float64) string { return minus(strconv.FormatFloat(v, 'f', 2, 64)) }
func ratio3(v float64) string { return minus(strconv.FormatFloat(v, 'f', 3, 64)) }
func ratio4(v float64) string { return minus(strconv.FormatFloat(v, 'f', 4, 64)) }
func nano(v float64) string   { return minus(strconv.FormatFloat(v, 'f', 0, 64)) + " ns" }
func micro(v float64) string  { return minus(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + " µs" }
func milli(v float64) string  { return minus(strconv.FormatFloat(v/1e6, 'f', 3, 64)) + " ms" }
func faults(v float64) string { return minus(strconv.FormatFloat(v, 'f', 1, 64)) }

// minus writes a negative number with a minus sign rather than a hyphen,
// and a zero rounded from below without one.
func minus(s string) string {
	if strings.Trim(s, "-0.") == "" {
		return strings.TrimPrefix(s, "-")
	}
	return strings.Replace(s, "-", "−", 1)
}

// results is a parsed benchmark output: its configuration lines and, for
// each benchmark (without the -GOMAXPROCS suffix) and metric, one value
// per run.
type results struct {
	config     map[string]string
	values     map[string]map[string][]float64
	iterations map[string][]int
}

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(-\d+)?\s+(\d+)\s+(.*)$`)

func parseResults(r io.Reader) (*results, error) {
	res := &results{config: map[string]string{}, values: map[string]map[string][]float64{}, iterations: map[string][]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := benchLine.FindStringSubmatch(line); m != nil {
			name := m[1]
			n, _ := strconv.Atoi(m[3])
			res.iterations[name] = append(res.iterations[name], n)
			f := strings.Fields(m[4])
			if len(f)%2 != 0 {
				return nil, fmt.Errorf("%s: odd number of fields after the iterations", name)
			}
			if res.values[name] == nil {
				res.values[name] = map[string][]float64{}
			}
			for i := 0; i < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %v", name, f[i+1], err)
				}
				res.values[name][f[i+1]] = append(res.values[name][f[i+1]], v)
			}
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok && k != "" && !strings.ContainsAny(k, " \t") {
			res.config[k] = strings.TrimSpace(v)
		}
	}
	return res, sc.Err()
}

// figure returns the median over the runs of a metric of a benchmark and
// the range that covers each run's value and 95 % confidence interval
// (where the benchmark reports one); ok is false if the benchmark did not
// report the metric.
func (r *results) figure(bench, metric string) (v, lo, hi float64, ok bool) {
	vals := r.values[bench][metric]
	if len(vals) == 0 {
		return 0, 0, 0, false
	}
	v = quantile(slices.Clone(vals), 0.5)
	lo, hi = slices.Min(vals), slices.Max(vals)
	fig, unit := splitMetric(metric)
	for _, l := range r.values[bench][fig+"-lo-"+unit] {
		lo = min(lo, l)
	}
	for _, h := range r.values[bench][fig+"-hi-"+unit] {
		hi = max(hi, h)
	}
	return v, lo, hi, true
}

// cell writes a figure with its range, "1.04 [1.02, 1.06]", the range left
// out where it is a single value; "—" if the figure is missing.
func (r *results) cell(bench, metric string, format func(float64) string) string {
	v, lo, hi, ok := r.figure(bench, metric)
	if !ok {
		return "—"
	}
	s, l, h := format(v), format(lo), format(hi)
	if l == h {
		return s
	}
	return s + " [" + strings.TrimSuffix(l, unitOf(l)) + ", " + h + "]"
}

// unitOf returns the unit suffix of a formatted figure (" µs"), if any.
func unitOf(s string) string {
	if i := strings.LastIndex(s, " "); i >= 0 {
		return s[i:]
	}
	return ""
}

// verdict compares a figure's range with a target: "✓" when the whole
// range meets it, "✗" when none of it does, "≈" when the target is within
// the range (a tie with the target, within the spread); "" without target.
func verdict(target string, lo, hi float64, column int) string {
	f := strings.Fields(target)
	if len(f) < 2 || (len(f) > 2 && f[2] == "static" && column == 0) {
		return ""
	}
	t, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return ""
	}
	switch f[0] {
	case "≤":
		if hi <= t {
			return " ✓"
		}
		if lo > t {
			return " ✗"
		}
		return " ≈"
	case "=":
		if lo <= t && t <= hi {
			return " ✓"
		}
		return " ✗"
	}
	return ""
}

// renderHeadline writes the headline table.
func renderHeadline(r *results) string {
	var sb strings.Builder
	sb.WriteString("| figure | glibc dynamic | glibc static | musl static | target |\n|---|---:|---:|---:|---|\n")
	for _, row := range headline {
		sb.WriteString("| " + row.label + " |")
		for i := range row.names {
			bench, ok := row.benchOf(i)
			if !ok {
				sb.WriteString(" |")
				continue
			}
			c := r.cell(bench, row.metric, row.format)
			if _, lo, hi, ok := r.figure(bench, row.metric); ok {
				c += verdict(row.target, lo, hi, i)
			}
			sb.WriteString(" " + c + " |")
		}
		sb.WriteString(" " + row.target + " |\n")
	}
	return sb.String()
}

// renderDetails writes the tables of every figure.
func renderDetails(r *results) string {
	var sb strings.Builder
	for _, d := range details {
		sb.WriteString("\n#### " + d.title + "\n\n|")
		for _, c := range d.cols {
			sb.WriteString(" | " + c.header)
		}
		sb.WriteString(" |\n|---|" + strings.Repeat("---:|", len(d.cols)) + "\n")
		for _, row := range d.rows {
			sb.WriteString("| " + row)
			for _, c := range d.cols {
				bench, metric := c.benchMetric(&d, row)
				sb.WriteString(" | " + r.cell(bench, metric, c.format))
			}
			sb.WriteString(" |\n")
		}
	}
	return sb.String()
}

// renderProvenance says what produced the results.
func renderProvenance(r *results) string {
	c := func(k string) string {
		if v, ok := r.config[k]; ok {
			return v
		}
		return "unknown"
	}
	// The iterations that ran: the samples metric where there is one
	// (b.N is fewer when the benchmark ran more than asked for).
	runs, iters := 0, 0
	for name, n := range r.iterations {
		if strings.HasPrefix(name, "Startup/") {
			runs = max(runs, len(n))
			if s := r.values[name]["samples"]; len(s) > 0 {
				iters = max(iters, int(slices.Max(s)))
			} else {
				iters = max(iters, slices.Max(n))
			}
		}
	}
	return fmt.Sprintf("The tree at commit %s; %s of %s; %s, %s; Linux %s, %s, glibc %s, musl %s, gcc %s, valgrind %s.\n",
		c("commit"), plural(runs, "run"), plural(iters, "iteration"), c("cpu"), c("machine"), c("kernel"), c("go"), c("glibc"), c("musl"), c("gcc"), c("valgrind"))
}

// plural returns "1 run", "3 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// generated marks the parts of the README that TestTable writes.
var generated = []struct {
	name   string
	render func(*results) string
}{
	{"provenance", renderProvenance},
	{"headline", renderHeadline},
	{"details", renderDetails},
}

// TestTable checks that the README's generated tables are what the results
// file gives. With -update it rewrites them; with -measure it first runs
// every benchmark into the results file (as root, CI or not, everything
// must run: see the README for the time it takes).
func TestTable(t *testing.T) {
	if *measure {
		measureResults(t)
	}
	f, err := os.Open(*resultsPath)
	if err != nil {
		t.Fatalf("the results the README's tables come from: %v", err)
	}
	defer f.Close()
	res, err := parseResults(f)
	if err != nil {
		t.Fatalf("%s: %v", *resultsPath, err)
	}
	for _, row := range headline {
		for i := range row.names {
			bench, ok := row.benchOf(i)
			if _, _, _, have := res.figure(bench, row.metric); ok && !have {
				t.Errorf("%s: no %s of %s", *resultsPath, row.metric, bench)
			}
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := string(readme)
	for _, g := range generated {
		begin, end := "<!-- "+g.name+": generated by TestTable -->\n", "<!-- end of "+g.name+" -->"
		i, j := strings.Index(want, begin), strings.Index(want, end)
		if i < 0 || j < i {
			t.Fatalf("README.md has no %q ... %q", strings.TrimSpace(begin), end)
		}
		want = want[:i+len(begin)] + g.render(res) + want[j:]
	}
	if want == string(readme) {
		return
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's tables are not what %s gives; to rewrite them: go test -run TestTable -update", *resultsPath)
}

// measureResults runs every benchmark of this test binary with the flags
// of -measure-args into the results file, and shows their output as they
// run. The file is replaced only when every benchmark passed.
func measureResults(t *testing.T) {
	out, err := os.CreateTemp(filepath.Dir(*resultsPath), "results-*.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	args := append([]string{"-test.run=^$", "-test.bench=.", "-test.timeout=0"}, strings.Fields(*measureArgs)...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stdout = io.MultiWriter(out, os.Stdout)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v; %s is left as it was", os.Args[0], strings.Join(args, " "), err, *resultsPath)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(out.Name(), *resultsPath); err != nil {
		t.Fatal(err)
	}
}
