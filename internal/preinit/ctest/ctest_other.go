//go:build !linux || !cgo

// Package ctest exposes the C environment parser of package preinit to Go
// tests and fuzzing. It is not part of the API; without cgo it is empty.
package ctest
