package cover_test

import (
	"fmt"
	"testing"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/reexec/cover"
)

// The whole TestMain of a package whose tests run actions.
func TestMain(m *testing.M) { cover.Run(m) }

func init() {
	reexec.Register("cover-example", func() {
		n := 0
		for range 6 {
			n += 7
		}
		fmt.Println(n)
	})
}

// With cover.Run as TestMain, the loop in the action above counts in
// go test -cover, although only a re-executed child runs it.
func Example() {
	var n int
	err := reexec.RunReexecAction("cover-example", reexec.Result(&n))
	fmt.Println(n, err)
	// Output: 42 <nil>
}
