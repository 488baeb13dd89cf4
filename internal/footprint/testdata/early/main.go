// Command early is base with a blank import of early.
package main

import "C"

import (
	"os"

	_ "github.com/gonsproject/gons/early"
)

func main() {
	if _, err := os.Stdout.WriteString("hello, world\n"); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
