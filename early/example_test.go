//go:build linux && cgo

package early_test

import (
	"fmt"

	_ "github.com/gonsproject/gons/early"
	"github.com/gonsproject/gons/status"
)

// A program imports early for its side effect and asks status what
// happened. Run without gons_* variables, it joined nothing.
func Example() {
	if err := status.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ran:", status.Ran(), "joined:", status.Joined())
	// Output: ran: true joined: []
}
