// Command early is base with a blank import of early.
package main

import "C"

import (
	"os"

	_ "github.com/gonsproject/gons/early"
)

func main() {
	os.Stdout.WriteString("hello, world\n")
}
