//go:build !linux

package reexec

import (
	"context"
	"errors"
	"os/exec"
)

// run is not supported outside Linux: namespaces and /proc/self/exe are
// Linux's.
func run(ctx context.Context, name string, o *options) error {
	return &Error{Action: name, Op: "start", Err: errors.ErrUnsupported}
}

// child is never made outside Linux.
type child struct {
	cmd    *exec.Cmd
	stderr *tail
}

func newChild(ctx context.Context, name string, o *options, args []string) (*child, error) {
	return nil, &Error{Action: name, Op: "start", Err: errors.ErrUnsupported}
}

func (c *child) start() error                       { return errors.ErrUnsupported }
func (c *child) wait(*resultWriter) ([]byte, error) { return nil, errors.ErrUnsupported }
func (c *child) release()                           {}
func (c *child) abandon()                           {}

// resultWriter is never used outside Linux.
type resultWriter struct{}
