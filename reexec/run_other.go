//go:build !linux

package reexec

import (
	"context"
	"errors"
)

// run is not supported outside Linux: namespaces and /proc/self/exe are
// Linux's.
func run(ctx context.Context, name string, o *options) error {
	return &Error{Action: name, Op: "start", Err: errors.ErrUnsupported}
}
