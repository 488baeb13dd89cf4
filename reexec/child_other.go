//go:build !linux

package reexec

import "errors"

// closeOnExecFrom does nothing: off Linux no child is started.
func closeOnExecFrom(int) {}

// checkSocket refuses: off Linux no child is started.
func checkSocket(int) error { return errors.ErrUnsupported }

// paramToStdin refuses: off Linux no child is started.
func paramToStdin([]byte) error { return errors.ErrUnsupported }
