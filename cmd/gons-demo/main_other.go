//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "gons-demo: namespaces are a Linux feature")
	os.Exit(1)
}
