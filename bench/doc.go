// Package bench measures what the gons module costs: the start-up overhead
// of a blank import of early, the latency of a namespace switch at start-up,
// the round trip of a reexec action, the bytes the packages add to a binary
// and the instructions the constructor executes when nothing is asked of it.
// Each figure stands next to its physical floor and next to
// github.com/thediveo/gons, measured in the same run.
//
// The package holds only benchmarks; bench is its own module so that the
// module github.com/gonsproject/gons does not depend on thediveo/gons. Run
// them as root from this directory:
//
//	go test -run '^$' -bench . -benchtime 300x -count 3 -timeout 90m
//
// See README.md for what each benchmark runs, how figures and their spread
// are computed, and the figures of one run, whose tables TestTable checks
// against testdata/results.txt and rewrites with -update (-measure runs the
// benchmarks into that file first).
package bench
