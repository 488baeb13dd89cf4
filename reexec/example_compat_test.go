//go:build cgo

package reexec_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gonsproject/gons/reexec"
)

// A program that used moby/sys/reexec or containers/storage/pkg/reexec
// keeps its calls of Register, Init and CommandContext; only the import
// path changes.
func ExampleCommandContext() {
	// func init() {
	// 	reexec.Register("example-upper", ...) // prints len(os.Args[1:]), then stdin in upper case
	// }
	//
	// func main() {
	// 	if reexec.Init() {
	// 		return
	// 	}
	cmd := reexec.CommandContext(context.Background(), "example-upper", "a", "b", "c")
	cmd.Stdin = strings.NewReader("moby\n")
	cmd.Stdout = os.Stdout
	if err := cmd.Run(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 3 arguments
	// MOBY
}

// Init is CheckAction for callers of moby's Init: in a child, it runs the
// action and exits; here, as in any process that is not a child, it
// returns false.
func ExampleInit() {
	// func main() {
	if reexec.Init() {
		return
	}
	fmt.Println("not a child: main goes on")
	// Output: not a child: main goes on
}
