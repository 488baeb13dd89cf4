//go:build cgo

// The examples' output is what a child switched by early's constructor
// prints: without cgo there is no constructor.

package reexec_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/status"
)

func init() {
	// example-upper prints its arguments' count, then its standard input
	// in upper case, line by line.
	reexec.Register("example-upper", func() {
		fmt.Println(len(os.Args[1:]), "arguments")
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Println(strings.ToUpper(sc.Text()))
		}
	})
}

// A command runs an action as exec.Cmd runs a program: arguments,
// standard streams, Start and Wait. The options of the other runs, such
// as Namespaces, apply here too.
func ExampleCommand() {
	cmd := reexec.Command(context.Background(), "example-upper", []string{"a", "b"})
	cmd.Stdin = strings.NewReader("hello\nworld\n")
	cmd.Stdout = os.Stdout
	if err := cmd.Run(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 2 arguments
	// HELLO
	// WORLD
}

// The error of a run is a *reexec.Error; a failed switch in the child
// unwraps to the child's *status.Error.
func ExampleError() {
	_, err := hostname.Run(context.Background(), struct{}{}, reexec.Namespaces([]reexec.Namespace{
		{Type: "!uts", Path: "/nonexistent/uts"},
	}))
	var e *reexec.Error
	if errors.As(err, &e) {
		fmt.Println("action:", e.Action, "op:", e.Op)
	}
	var se *status.Error
	if errors.As(err, &se) {
		fmt.Println("in the child:", se.Op, se.Type, se.Path, errors.Is(err, os.ErrNotExist))
	}
	// Output:
	// action: example-hostname op: switch
	// in the child: open uts /nonexistent/uts true
}
