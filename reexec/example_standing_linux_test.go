package reexec_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gonsproject/gons/reexec"
)

// countFiles is an action that counts the entries of a directory.
var countFiles = reexec.RegisterFunc("example-count", func(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	return len(entries), err
})

// Start a child once in the mount namespace of another process, here PID 1,
// and run an action there many times, at the cost of a message each way
// rather than of a process each.
func ExampleStart() {
	ctx := context.Background()
	s, err := reexec.Start(ctx, reexec.Namespaces([]reexec.Namespace{
		{Type: "mnt", Path: "/proc/1/ns/mnt"},
	}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // e.g. reexec "reexec.Start": switch: gons: setns mnt "/proc/1/ns/mnt": operation not permitted
		return
	}
	defer s.Close()
	for _, dir := range []string{"/", "/etc", "/tmp"} {
		n, err := countFiles.RunIn(ctx, s, dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			continue
		}
		fmt.Println(dir, n)
	}
}

// Run an action in a standing child in this process's own namespaces:
// every call runs in the same process.
func ExampleFunc_RunIn() {
	ctx := context.Background()
	s, err := reexec.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer s.Close()
	a, _ := whoAmI.RunIn(ctx, s, struct{}{})
	b, _ := whoAmI.RunIn(ctx, s, struct{}{})
	fmt.Println("same process:", a[0] == b[0], "calls:", b[1]-a[1])
	// Output: same process: true calls: 1
}
