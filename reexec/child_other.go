//go:build !linux

package reexec

// closeOnExecFrom does nothing: off Linux no child is started.
func closeOnExecFrom(int) {}
