package status_test

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/gonsproject/gons/status"
)

// A program checks first thing what happened before it started. This one
// does not import package early, so nothing ran, and without gons_*
// variables that is no error.
func Example() {
	if err := status.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ran:", status.Ran(), "joined:", status.Joined())
	// Output: ran: false joined: []
}

func ExampleError() {
	err := error(&status.Error{Op: "setns", Type: "mnt", Path: "/proc/42/ns/mnt", Err: syscall.EPERM})
	fmt.Println(err)
	fmt.Println(errors.Is(err, syscall.EPERM))
	// Output:
	// gons: setns mnt "/proc/42/ns/mnt": operation not permitted (needs CAP_SYS_ADMIN over the owning user namespace, and CAP_SYS_CHROOT)
	// true
}
