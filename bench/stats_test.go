package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// series is one value per iteration of a benchmark, in the order of the
// iterations: the series of all subjects of a benchmark line up, so that
// index i of each was measured in the same iteration.
type series []float64

// stat computes a figure from the iterations idx of a run (indices into
// the series it reads, repeats allowed): the whole run, or a resample of
// it for the spread.
type stat func(idx []int) float64

// median returns the median of the values of s at idx.
func (s series) median(idx []int) float64 {
	v := make([]float64, len(idx))
	for i, j := range idx {
		v[i] = s[j]
	}
	return quantile(v, 0.5)
}

// minus returns the per-iteration differences s[i]-o[i]: with both taken
// in the same iteration, drift between iterations cancels out.
func (s series) minus(o series) series {
	d := make(series, len(s))
	for i := range s {
		d[i] = s[i] - o[i]
	}
	return d
}

// quantile returns the q-quantile of v (which it sorts), interpolating
// between neighbours; NaN for none.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	pos := q * float64(len(v)-1)
	lo := int(pos)
	if lo+1 >= len(v) {
		return v[len(v)-1]
	}
	return v[lo] + (pos-float64(lo))*(v[lo+1]-v[lo])
}

// med is the statistic "median of s".
func med(s series) stat { return s.median }

// per divides a statistic by n: a cost of n switches per switch.
func per(st stat, n int) stat {
	return func(idx []int) float64 { return st(idx) / float64(n) }
}

// over is the ratio of two statistics of the same iterations.
func over(a, b stat) stat {
	return func(idx []int) float64 { return a(idx) / b(idx) }
}

// allIters returns the indices of n iterations.
func allIters(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// resamples is the number of bootstrap resamples behind each spread.
const resamples = 400

// confidence returns the 95 % confidence interval of st over n iterations
// by the bootstrap: st of resamples of the iterations, drawn with
// replacement, whole iterations at a time (every subject's sample of an
// iteration together, as they were measured), and the 2.5 and 97.5
// percentiles of what those give. The seed is fixed: the same samples give
// the same interval.
func confidence(st stat, n int) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	idx := make([]int, n)
	v := make([]float64, 0, resamples)
	for range resamples {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		if x := st(idx); !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	return quantile(slices.Clone(v), 0.025), quantile(v, 0.975)
}

// check is what a figure must satisfy to be plausible, whatever the
// machine: the benchmarks fail on a figure that does not, also in the
// one-iteration smoke run of CI. Speed is not checked.
type check int

const (
	positive check = iota // a time or count that cannot be zero
	signed                // a difference that may be zero or below, by noise
	ratio                 // a ratio of two positive figures
	finite                // a bound of a confidence interval: any number
)

// ratioBand is the plausible range of a ratio: the benchmarks compare
// like with like, and no ratio of theirs is off by more than this.
const ratioBand = 10

// maxSigned bounds the magnitude of a signed difference: a constructor
// that does nothing, a switch's page faults.
const maxSigned = 1e7

// figure reports st over n iterations as metric name (e.g. "early-ns/switch":
// the name of the figure, "-", its unit), with its 95 % confidence interval as
// name-lo and name-hi ("early-lo-ns/switch"), and fails the benchmark when the
// value is not plausible for c.
func figure(b *testing.B, name string, st stat, n int, c check) {
	b.Helper()
	v := st(allIters(n))
	lo, hi := confidence(st, n)
	report(b, name, "", v, c)
	// A bound of the interval is only as plausible as the samples at the
	// edge: on a busy machine a time's upper bound may be any multiple of
	// its median, and a difference's may be far from zero.
	report(b, name, "lo", lo, finite)
	report(b, name, "hi", hi, finite)
}

// distribution reports the median of the samples s of one subject as
// metric name, their 10th and 90th percentiles as name-p10 and name-p90,
// and the 95 % confidence interval of the median as name-lo and name-hi.
func distribution(b *testing.B, name string, s series) {
	b.Helper()
	figure(b, name, med(s), len(s), positive)
	report(b, name, "p10", quantile(slices.Clone(s), 0.1), positive)
	report(b, name, "p90", quantile(slices.Clone(s), 0.9), positive)
}

// report reports v as metric name with stat inserted before its unit, and
// fails the benchmark unless v is finite and what c asks.
func report(b *testing.B, name, stat string, v float64, c check) {
	b.Helper()
	metric := name
	if stat != "" {
		fig, unit := splitMetric(name)
		metric = fig + "-" + stat + "-" + unit
	}
	b.ReportMetric(v, metric)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		b.Errorf("%s = %v: not a number", metric, v)
	case c == positive && v <= 0:
		b.Errorf("%s = %v: must be positive", metric, v)
	case c == ratio && (v < 1.0/ratioBand || v > ratioBand):
		b.Errorf("%s = %v: a ratio outside [1/%d, %d]", metric, v, ratioBand, ratioBand)
	case c == signed && math.Abs(v) > maxSigned:
		b.Errorf("%s = %v: implausibly large", metric, v)
	}
}

// splitMetric splits a metric into the name of the figure and its unit:
// "early-ns/switch" into "early" and "ns/switch", "early/cgo-ratio" into
// "early/cgo" and "ratio".
func splitMetric(metric string) (fig, unit string) {
	dash := strings.LastIndex(metric, "-")
	if slash := strings.LastIndex(metric, "/"); slash > dash {
		// The unit has a slash of its own ("ns/switch"): it starts at
		// the last dash before that.
		dash = strings.LastIndex(metric[:slash], "-")
	}
	if dash < 0 {
		return metric, ""
	}
	return metric[:dash], metric[dash+1:]
}
