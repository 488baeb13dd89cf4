// Command status is early checking the outcome with status,
// as a program that accepts gons_* variables does.
package main

import "C"

import (
	"os"

	_ "github.com/gonsproject/gons/early"
	"github.com/gonsproject/gons/status"
)

func main() {
	if err := status.Err(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("hello, world\n")
}
