package bench

import (
	"math"
	"strings"
	"testing"
)

func TestQuantile(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		q    float64
		want float64
	}{
		{[]float64{3, 1, 2}, 0.5, 2},
		{[]float64{4, 1, 3, 2}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0.1, 2},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0.9, 10},
		{[]float64{7}, 0.9, 7},
	} {
		if got := quantile(append([]float64(nil), c.v...), c.q); got != c.want {
			t.Errorf("quantile(%v, %v) = %v, want %v", c.v, c.q, got, c.want)
		}
	}
	if got := quantile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("quantile of nothing = %v, want NaN", got)
	}
}

func TestSplitMetric(t *testing.T) {
	for metric, want := range map[string][2]string{
		"early-ns/switch":          {"early", "ns/switch"},
		"early/cgo-ratio":          {"early/cgo", "ratio"},
		"gons-func/thediveo-ratio": {"gons-func/thediveo", "ratio"},
		"gons-func-floor-ns/exec":  {"gons-func-floor", "ns/exec"},
		"early-instructions":       {"early", "instructions"},
		"a2-a-ctor-ns/exec":        {"a2-a-ctor", "ns/exec"},
		"checked-calls":            {"checked", "calls"},
	} {
		if fig, unit := splitMetric(metric); fig != want[0] || unit != want[1] {
			t.Errorf("splitMetric(%q) = %q, %q, want %q, %q", metric, fig, unit, want[0], want[1])
		}
	}
}

// TestConfidence checks the bootstrap interval on samples whose median is
// known: it holds the median, it is narrower for more samples, and it is a
// single value for samples that do not vary.
func TestConfidence(t *testing.T) {
	var small, large series
	for i := range 21 {
		small = append(small, float64(i%7))
	}
	for i := range 2100 {
		large = append(large, float64(i%7))
	}
	slo, shi := confidence(med(small), len(small))
	llo, lhi := confidence(med(large), len(large))
	if slo > 3 || shi < 3 || llo > 3 || lhi < 3 {
		t.Errorf("intervals [%v, %v] and [%v, %v] miss the median 3", slo, shi, llo, lhi)
	}
	if lhi-llo >= shi-slo {
		t.Errorf("100 times the samples give [%v, %v], no narrower than [%v, %v]", llo, lhi, slo, shi)
	}
	same := series{5, 5, 5, 5, 5}
	if lo, hi := confidence(med(same), len(same)); lo != 5 || hi != 5 {
		t.Errorf("samples that do not vary give [%v, %v], want [5, 5]", lo, hi)
	}
	// Paired: the iterations are resampled together, so a constant
	// per-iteration ratio stays exact however much each series varies.
	a, b := series{1, 10, 100, 1000}, series{2, 20, 200, 2000}
	if lo, hi := confidence(over(med(b), med(a)), len(a)); lo != 2 || hi != 2 {
		t.Errorf("ratio of paired series gives [%v, %v], want [2, 2]", lo, hi)
	}
}

func TestResultsTables(t *testing.T) {
	const out = `commit: 0123456789ab
machine: 2 cores, 24 GiB, virtual machine
cpu: AMD EPYC
BenchmarkStartup/glibc-dynamic-znow-2   300   1 ns/op   1.010 early/cgo-ratio   0.990 early/cgo-lo-ratio   1.030 early/cgo-hi-ratio
BenchmarkStartup/glibc-dynamic-znow-2   300   1 ns/op   1.020 early/cgo-ratio   1.000 early/cgo-lo-ratio   1.040 early/cgo-hi-ratio
BenchmarkStartup/glibc-dynamic-znow-2   300   1 ns/op   1.000 early/cgo-ratio   0.980 early/cgo-lo-ratio   1.020 early/cgo-hi-ratio
BenchmarkSize/glibc-static-2   1   0 ns/op   8288 early-file-bytes
PASS
`
	r, err := parseResults(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.config["commit"] != "0123456789ab" || r.config["cpu"] != "AMD EPYC" {
		t.Errorf("configuration %v", r.config)
	}
	v, lo, hi, ok := r.figure("Startup/glibc-dynamic-znow", "early/cgo-ratio")
	if !ok || v != 1.01 || lo != 0.98 || hi != 1.04 {
		t.Errorf("figure = %v [%v, %v] %v, want the median of the runs, 1.01, and the range of their intervals, [0.98, 1.04]", v, lo, hi, ok)
	}
	if got, want := r.cell("Startup/glibc-dynamic-znow", "early/cgo-ratio", ratio3), "1.010 [0.980, 1.040]"; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
	if got, want := r.cell("Size/glibc-static", "early-file-bytes", count), "8,288"; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
	if got := r.cell("Size/glibc", "early-file-bytes", count); got != "—" {
		t.Errorf("missing figure: cell = %q, want —", got)
	}
	if got, want := renderProvenance(r), "; 3 runs of 300 iterations; "; !strings.Contains(got, want) {
		t.Errorf("provenance %q, want %q (b.N, without samples)", got, want)
	}
	// A smoke run: b.N is 1, the samples that ran 21.
	smoke, err := parseResults(strings.NewReader("BenchmarkStartup/glibc-static-2   1   1 ns/op   21 samples\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := renderProvenance(smoke), "; 1 run of 21 iterations; "; !strings.Contains(got, want) {
		t.Errorf("provenance %q, want %q (the samples that ran)", got, want)
	}
	for _, c := range []struct {
		target string
		lo, hi float64
		column int
		want   string
	}{
		{"≤ 1.01", 0.98, 1.04, 0, " ≈"},
		{"≤ 1.01", 0.98, 1.00, 0, " ✓"},
		{"≤ 1.05", 1.10, 1.20, 0, " ✗"},
		{"≤ 4096 static", 8000, 8400, 0, ""},
		{"≤ 4096 static", 8000, 8400, 1, " ✗"},
		{"= 1", 0.97, 1.03, 2, " ✓"},
		{"= 1", 1.02, 1.03, 2, " ✗"},
		{"", 1, 2, 0, ""},
	} {
		if got := verdict(c.target, c.lo, c.hi, c.column); got != c.want {
			t.Errorf("verdict(%q, %v, %v, column %d) = %q, want %q", c.target, c.lo, c.hi, c.column, got, c.want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{count(1234567), "1,234,567"},
		{count(-8288), "−8,288"},
		{count(440), "440"},
		{micro(-40), "0.0 µs"},
		{micro(12345), "12.3 µs"},
		{milli(1814000), "1.814 ms"},
		{ratio2(-0.16), "−0.16"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
