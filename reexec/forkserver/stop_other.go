//go:build !linux || !cgo

package forkserver

func stop() {}
