//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "gons-nsenter: namespaces are a Linux feature")
	os.Exit(1)
}
