//go:build early

package main

import _ "github.com/gonsproject/gons/early"
