package testutil

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/unix"
)

// NotSupported reports whether err means the kernel or the sandbox does not
// allow an operation, as opposed to the operation having gone wrong.
func NotSupported(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS) ||
		errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, errors.ErrUnsupported)
}
