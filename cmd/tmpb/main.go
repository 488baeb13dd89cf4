package main

import "C"
import _ "github.com/gonsproject/gons/early"

func main() {}
