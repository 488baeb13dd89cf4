// Package footprint measures what this module's packages add to a program,
// for the size budget test and the size benchmark: testdata holds the
// programs they compare, a cgo hello world that checks the write of its
// greeting and reports a failure on stderr with exit status 1 (base), the
// same with a blank import of early (early), and the same checking
// status.Err as a program that accepts gons_* variables does, reporting its
// failure the same way (status).
package footprint

import "debug/elf"

// Budgets are the most bytes (see Loaded) that early alone, and early with
// a status.Err check, may add to base, stripped and linked statically
// against glibc or musl; TestBudget holds the subjects to them. A size is
// deterministic for one toolchain, and another links other bytes: they
// were set with BudgetGo and BudgetGCC (glibc 2.36, musl 1.2.3, of Debian
// 12) at the figures these gave (early: 9,320 and 9,408 bytes; with the
// check: 23,234 and 23,290, since its messages say what a failure for want
// of a privilege needs) plus about 3 %.
var Budgets = []struct {
	Subject     string // the program in testdata
	What        string // what it adds to base
	Glibc, Musl int64
}{
	{"early", "early", 9600, 9696},
	{"status", "early with a status.Err check", 23936, 24000},
}

// The toolchain the budgets were set with.
const (
	BudgetGo  = "go1.26.8"
	BudgetGCC = "12.2.0"
)

// Loaded returns the sum of the sizes of the sections that the program at
// path loads from its file: code, read-only and initialized data, and the
// Go runtime's tables. Unlike the size of the file, which moves in steps
// of the alignment the linker pads segments to, it shows every byte.
func Loaded(path string) (int64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS {
			n += int64(s.Size)
		}
	}
	return n, nil
}
