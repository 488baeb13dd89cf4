//go:build !linux || !cgo

package nsexec

import (
	"errors"

	"github.com/gonsproject/gons/status"
)

// Start fails: running a program in other namespaces needs Linux and cgo.
func (c *Cmd) Start() error {
	return &status.Error{Op: "exec", Path: c.Path, Err: errors.ErrUnsupported}
}

// forked is a child of the fork server, which needs Linux and cgo.
type forked struct{}
