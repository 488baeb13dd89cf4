package bench

import (
	"debug/elf"
	"os"
	"testing"
)

// sizeVariants are the programs of the size benchmark: testdata/size/base
// plus what the metric names.
var sizeVariants = []struct {
	metric, pkg string
	reexec      bool // needs package reexec
}{
	{"early", "size/early", false},
	{"early+status", "size/status", false},
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
// initialised data), which shows every byte.
func BenchmarkSize(b *testing.B) {
	for _, l := range []linking{dynamicGlibc, staticGlibc, staticMusl} {
		b.Run(l.String(), func(b *testing.B) {
			baseFile, baseLoaded := binarySize(b, buildGo(b, "size/base", l, true))
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
			}
		})
	}
}

// binarySize returns the size of the file at path and the sum of the sizes
// of its allocated sections that take space in the file.
func binarySize(b *testing.B, path string) (file, loaded int64) {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	f, err := elf.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS {
			loaded += int64(s.Size)
		}
	}
	return fi.Size(), loaded
}
