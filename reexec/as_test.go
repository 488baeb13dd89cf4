package reexec

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
)

// asTarget is an error whose As method finds a syscall.Errno of its own.
type asTarget struct{}

func (asTarget) Error() string { return "as target" }

func (asTarget) As(target any) bool {
	p, ok := target.(*syscall.Errno)
	if ok {
		*p = syscall.EXDEV
	}
	return ok
}

// TestAs checks that as finds what errors.As finds, through every way an
// error can hold another.
func TestAs(t *testing.T) {
	exitErr := &exec.ExitError{}
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"nil", nil},
		{"itself", syscall.EPERM},
		{"wrapped", fmt.Errorf("a: %w", fmt.Errorf("b: %w", syscall.EPERM))},
		{"joined", errors.Join(errors.New("x"), nil, fmt.Errorf("y: %w", syscall.ENOENT))},
		{"As method", fmt.Errorf("z: %w", asTarget{})},
		{"none", errors.New("plain")},
		{"pointer", fmt.Errorf("w: %w", exitErr)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var want syscall.Errno
			wantOK := errors.As(tt.err, &want)
			if got, ok := as[syscall.Errno](tt.err); ok != wantOK || got != want {
				t.Errorf("as = %v, %v; errors.As %v, %v", got, ok, want, wantOK)
			}
			var wantPtr *exec.ExitError
			wantOK = errors.As(tt.err, &wantPtr)
			if got, ok := as[*exec.ExitError](tt.err); ok != wantOK || got != wantPtr {
				t.Errorf("as = %p, %v; errors.As %p, %v", got, ok, wantPtr, wantOK)
			}
		})
	}
}
