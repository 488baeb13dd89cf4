//go:build !linux

package reexec

import (
	"context"
	"errors"
	"os"
)

// Standing is a standing child; outside Linux none starts.
type Standing struct{}

// Start is not supported outside Linux.
func Start(ctx context.Context, opts ...Option) (*Standing, error) {
	return nil, &Error{Action: standingName, Op: "start", Err: errors.ErrUnsupported}
}

// Close does nothing outside Linux.
func (s *Standing) Close() error { return nil }

// PID returns 0 outside Linux.
func (s *Standing) PID() int { return 0 }

func (s *Standing) call(ctx context.Context, name string, pc *codec, param any) ([]byte, error) {
	return nil, &Error{Action: name, Op: "start", Err: errors.ErrUnsupported}
}

// pollable refuses: off Linux no child is started.
func pollable(*os.File) (*os.File, error) { return nil, errors.ErrUnsupported }
