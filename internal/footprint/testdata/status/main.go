// Command status is early checking the outcome with status, as a program
// that accepts gons_* variables does: it reports that failure as base
// reports its own.
package main

import "C"

import (
	"os"

	_ "github.com/gonsproject/gons/early"
	"github.com/gonsproject/gons/status"
)

func main() {
	err := status.Err()
	if err == nil {
		_, err = os.Stdout.WriteString("hello, world\n")
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
