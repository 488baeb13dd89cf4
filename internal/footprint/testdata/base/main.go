// Command base is the baseline of the size measures: a cgo hello world.
package main

import "C"

import "os"

func main() {
	os.Stdout.WriteString("hello, world\n")
}
