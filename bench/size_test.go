package bench

import (
	"os"
	"testing"

	"github.com/gonsproject/gons/internal/footprint"
)

// footprintSubject is the path, as buildGo takes it, of a program of
// package footprint, which the size budget test measures.
func footprintSubject(name string) string { return "../../internal/footprint/testdata/" + name }

// sizeVariants are the programs of the size benchmark: a cgo hello world
// (footprint's base) plus what the metric names.
var sizeVariants = []struct {
	metric, pkg string
	reexec      bool // needs package reexec
}{
	{"early", footprintSubject("early"), false},
	{"early+status", footprintSubject("status"), false},
	{"reexec", "size/reexec", true},
	{"thediveo", "size/thediveo", false},
	{"thediveo+status", "size/thediveostatus", false},
	{"thediveo-reexec", "size/thediveoreexec", false},
}

// BenchmarkSize reports, for each way of linking, the size of a stripped
// (-ldflags=-s -w) cgo hello world and the bytes each variant adds to it:
// a blank import of early; early checked through status; a reexec action;
// and the same with thediveo/gons. It times nothing: the figures do not
// depend on the iteration count, and ns/op is left out.
//
// Two figures each: "file", the size of the file, which moves in steps of
// the segment alignment the linker pads to; and "loaded", the sum of the
// sections that the program loads from the file (code, read-only data,
// initialised data), which shows every byte. The static builds also report
// the budgets of the size budget test (package footprint), which holds
// early and early+status to them.
func BenchmarkSize(b *testing.B) {
	for _, l := range []linking{dynamicGlibc, staticGlibc, staticMusl} {
		b.Run(l.String(), func(b *testing.B) {
			baseFile, baseLoaded := binarySize(b, buildGo(b, footprintSubject("base"), l, true))
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(baseFile), "base-file-bytes")
			b.ReportMetric(float64(baseLoaded), "base-loaded-bytes")
			reexec := haveReexec(b)
			for _, v := range sizeVariants {
				if v.reexec && !reexec {
					continue
				}
				file, loaded := binarySize(b, buildGo(b, v.pkg, l, true))
				b.ReportMetric(float64(file-baseFile), v.metric+"-file-bytes")
				b.ReportMetric(float64(loaded-baseLoaded), v.metric+"-loaded-bytes")
				for _, budget := range footprint.Budgets {
					if footprintSubject(budget.Subject) == v.pkg && l != dynamicGlibc {
						n := budget.Glibc
						if l == staticMusl {
							n = budget.Musl
						}
						b.ReportMetric(float64(n), v.metric+"-budget-bytes")
					}
				}
			}
		})
	}
}

// binarySize returns the size of the file at path and the bytes it loads
// (footprint.Loaded).
func binarySize(b *testing.B, path string) (file, loaded int64) {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	loaded, err = footprint.Loaded(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size(), loaded
}
