//go:build cgo

package forkserver_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/gonsproject/gons/reexec"
	_ "github.com/gonsproject/gons/reexec/forkserver" // children forked, not exec'd
)

var shout = reexec.RegisterFunc("example-shout", func(s string) (string, error) {
	return strings.ToUpper(s) + "!", nil
})

// A program imports the package for its side effect and uses reexec as
// without it: main calls reexec.CheckAction first (here TestMain does),
// and each run's child comes from the fork server.
func Example() {
	// func main() {
	// 	reexec.CheckAction()
	s, err := shout.Run(context.Background(), "hello")
	fmt.Println(s, err)
	// Output: HELLO! <nil>
}
