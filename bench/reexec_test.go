package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// reexecDrivers are the subjects of the reexec benchmark: the metric
// prefix, the testdata package and the arguments of each; gons' first,
// thediveo/gons' last.
var reexecDrivers = []struct {
	name, pkg string
	args      []string
	gons      bool // needs package reexec
}{
	{"gons", "reexec", nil, true},
	{"gons-func", "reexec", []string{"func"}, true},
	{"thediveo", "reexecthediveo", nil, false},
}

// haveReexec reports whether package reexec is in the tree that the
// replace directive in go.mod points to. Until it is, the benchmarks that
// need it leave its figures out and say so.
func haveReexec(b *testing.B) bool {
	b.Helper()
	if _, err := os.Stat("../reexec/reexec.go"); err != nil {
		b.Logf("package reexec is not in this tree, its figures are left out: %v", err)
		return false
	}
	return true
}

// BenchmarkReexec times the round trip of a trivial reexec action with a
// small parameter and result, as the calling program sees it, next to its
// floor: an exec of the same binary that exits at once, waited for. Once
// without a namespace to switch, once with the child switching into a
// holder's network namespace (and the floor's child likewise). Each library
// runs in a driver process of its own (testdata/driver) that times each
// request itself; each iteration runs, alternating, every library's floor
// and round trip. It reports the medians, the ratios to the floor, and the
// heap allocations a round trip makes in the caller.
func BenchmarkReexec(b *testing.B) {
	b.Run("none", func(b *testing.B) { benchReexec(b, "") })
	b.Run("net", func(b *testing.B) { benchReexec(b, "net "+newHolder(b, false).ns("net")) })
}

func benchReexec(b *testing.B, ns string) {
	type series struct {
		name          string
		d             *driverProc
		floor, reexec samples
		allocs        []int64
	}
	var all []*series
	gons := haveReexec(b)
	for _, r := range reexecDrivers {
		if r.gons && !gons {
			continue
		}
		all = append(all, &series{name: r.name, d: startDriver(b, buildGo(b, r.pkg, dynamicGlibc, false), r.args...)})
	}
	floorReq := strings.TrimSpace("floor " + ns)
	reexecReq := strings.TrimSpace("reexec " + ns)
	for i := 0; b.Loop(); i++ {
		for j := range all {
			s := all[(i+j)%len(all)]
			if i%2 == 0 {
				s.floor = append(s.floor, s.d.request(b, floorReq).elapsed)
			}
			r := s.d.request(b, reexecReq)
			s.reexec = append(s.reexec, r.elapsed)
			s.allocs = append(s.allocs, r.allocs)
			if i%2 == 1 {
				s.floor = append(s.floor, s.d.request(b, floorReq).elapsed)
			}
		}
	}
	for _, s := range all {
		floor, reexec := s.floor.median(), s.reexec.median()
		b.ReportMetric(floor, s.name+"-floor-ns/exec")
		b.ReportMetric(reexec, s.name+"-ns/reexec")
		b.ReportMetric(ratio(reexec, floor), s.name+"/floor-ratio")
		b.ReportMetric(median(s.allocs), s.name+"-allocs/reexec")
	}
	if len(all) > 1 {
		last := all[len(all)-1]
		for _, s := range all[:len(all)-1] {
			b.ReportMetric(ratio(s.reexec.median(), last.reexec.median()), s.name+"/"+last.name+"-ratio")
		}
	}
}

// driverProc is a running driver (see testdata/driver).
type driverProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// reply is a driver's answer to one request.
type reply struct {
	elapsed time.Duration
	allocs  int64
}

// startDriver starts the driver at path; it ends when the benchmark does.
func startDriver(b *testing.B, path string, args ...string) *driverProc {
	b.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = baseEnv()
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("%s: %v", path, err)
		}
	})
	return &driverProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
}

// request sends req to the driver and returns its reply.
func (d *driverProc) request(b *testing.B, req string) reply {
	if _, err := fmt.Fprintln(d.in, req); err != nil {
		b.Fatalf("%s: %v", req, err)
	}
	line, err := d.out.ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 2 {
		b.Fatalf("%s: reply %q: %v", req, line, err)
	}
	ns, err1 := strconv.ParseInt(f[0], 10, 64)
	allocs, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("%s: reply %q", req, line)
	}
	return reply{elapsed: time.Duration(ns), allocs: allocs}
}
