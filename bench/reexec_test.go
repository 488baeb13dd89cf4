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

	"github.com/gonsproject/gons/internal/testutil"
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
// replace directive in go.mod points to. Without it, the benchmarks that
// need it leave its figures out and say so outside CI, and fail in CI.
func haveReexec(b *testing.B) bool {
	b.Helper()
	if _, err := os.Stat("../reexec/reexec.go"); err != nil {
		if testutil.InCI() {
			b.Fatalf("package reexec is not in this tree: %v", err)
		}
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
	b.Run(dynamicGlibc.timedName(), func(b *testing.B) {
		b.Run("none", func(b *testing.B) { benchReexec(b, "") })
		b.Run("net", func(b *testing.B) { benchReexec(b, "net "+newHolder(b, false).ns("net")) })
	})
}

func benchReexec(b *testing.B, ns string) {
	type driverSeries struct {
		name                      string
		d                         *driverProc
		floor, reexec, allocs     series
		floorFaults, reexecFaults series
	}
	var all []*driverSeries
	gons := haveReexec(b)
	for _, r := range reexecDrivers {
		if r.gons && !gons {
			continue
		}
		bin := buildGoVariant(b, r.pkg, dynamicGlibc, variant{now: true})
		all = append(all, &driverSeries{name: r.name, d: startDriver(b, bin, r.args...)})
	}
	floorReq := strings.TrimSpace("floor " + ns)
	reexecReq := strings.TrimSpace("reexec " + ns)
	floorRun := func(s *driverSeries) {
		r := s.d.request(b, floorReq)
		s.floor = append(s.floor, float64(r.elapsed))
		s.floorFaults = append(s.floorFaults, float64(r.minflt))
	}
	iteration := func(i int) {
		for j := range all {
			s := all[(i+j)%len(all)]
			if i%2 == 0 {
				floorRun(s)
			}
			r := s.d.request(b, reexecReq)
			s.reexec = append(s.reexec, float64(r.elapsed))
			s.allocs = append(s.allocs, float64(r.allocs))
			s.reexecFaults = append(s.reexecFaults, float64(r.minflt))
			if i%2 == 1 {
				floorRun(s)
			}
		}
	}
	i := iterate(b, iteration)
	for _, s := range all {
		distribution(b, s.name+"-floor-ns/exec", s.floor)
		distribution(b, s.name+"-ns/reexec", s.reexec)
		figure(b, s.name+"/floor-ratio", over(med(s.reexec), med(s.floor)), i, ratio)
		figure(b, s.name+"-allocs/reexec", med(s.allocs), i, positive)
		figure(b, s.name+"-floor-minflt/exec", med(s.floorFaults), i, positive)
		figure(b, s.name+"-minflt/reexec", med(s.reexecFaults), i, positive)
	}
	if len(all) > 1 {
		last := all[len(all)-1]
		for _, s := range all[:len(all)-1] {
			figure(b, s.name+"/"+last.name+"-ratio", over(med(s.reexec), med(last.reexec)), i, ratio)
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
	minflt  int64 // of the processes the request started
}

// startDriver starts the driver at path; it ends when the benchmark does.
func startDriver(b *testing.B, path string, args ...string) *driverProc {
	b.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = baseEnv()
	cmd.Stderr = os.Stderr
	in, out := testutil.StartPiped(b, cmd)
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
	if err != nil || len(f) != 3 {
		b.Fatalf("%s: reply %q: %v", req, line, err)
	}
	var v [3]int64
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			b.Fatalf("%s: reply %q", req, line)
		}
	}
	return reply{elapsed: time.Duration(v[0]), allocs: v[1], minflt: v[2]}
}
