// Command hello is the baseline of the start-up benchmarks: a cgo program
// (package mark uses cgo) that prints how long its start took. The other
// subjects are this program plus one blank import.
package main

import "github.com/gonsproject/gons/bench/testdata/mark"

func main() {
	mark.Print()
}
