// Command base is the baseline of the size measures: a cgo hello world
// that, like the other subjects, reports a failure on stderr and exits
// with status 1, so that what they add to it is only what they import.
package main

import "C"

import "os"

func main() {
	if _, err := os.Stdout.WriteString("hello, world\n"); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
