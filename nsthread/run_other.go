//go:build !linux

package nsthread

import "errors"

// run fails outside Linux, which has no namespaces.
func (c *config) run(fn func() error) error {
	return &Error{Op: "setns", Err: errors.ErrUnsupported}
}
