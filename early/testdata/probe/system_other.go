//go:build !cgo

package main

import "errors"

// systemEnv needs cgo: system(3) is the C library's.
func systemEnv(string) []string {
	fail(errors.New("-system needs cgo"))
	return nil
}
