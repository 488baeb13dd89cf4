//go:build cgo

// The examples' output is what a child switched by early's constructor
// prints: without cgo there is no constructor.

package reexec_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/reexec"
)

type lookupParam struct {
	Path string `json:"path"`
}

// stat is a typed action: it may print and log as it likes, its result
// travels on a channel of its own.
var stat = reexec.RegisterFunc("example-stat", func(p lookupParam) (int64, error) {
	log.Print("stat ", p.Path) // goes to the child's stderr
	fmt.Println("chatter")     // goes to the child's stdout, not into the result
	fi, err := os.Stat(p.Path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
})

func ExampleRegisterFunc() {
	ctx := context.Background()
	size, err := stat.Run(ctx, lookupParam{Path: "testdata/hello.txt"})
	fmt.Println(size, err)

	_, err = stat.Run(ctx, lookupParam{Path: "testdata/missing"})
	var e *reexec.Error
	if errors.As(err, &e) {
		fmt.Println(e.Action, e.Op, errors.Is(err, unix.ENOENT), errors.Is(err, os.ErrNotExist))
		fmt.Println(strings.Contains(e.Stderr, "stat testdata/missing"))
	}
	// Output:
	// 6 <nil>
	// example-stat action true true
	// true
}

// Run runs the typed action in a child, here in another working
// directory, and returns its result.
func ExampleFunc_Run() {
	size, err := stat.Run(context.Background(), lookupParam{Path: "hello.txt"}, reexec.Dir("testdata"))
	fmt.Println(size, err)
	// Output: 6 <nil>
}
