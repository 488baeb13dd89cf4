package reexec_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gonsproject/gons/reexec"
)

// hostname is an action that reports the host name of the UTS namespace it
// runs in.
var hostname = reexec.RegisterFunc("example-hostname", func(struct{}) (string, error) {
	return os.Hostname()
})

// Run an action in the namespaces of another process, here PID 1. This
// needs the privilege to join them (root, usually).
func ExampleNamespaces() {
	var ns []reexec.Namespace
	for _, typ := range []string{"user", "mnt", "uts", "net"} {
		// "!": open every path before the first switch, while /proc is
		// still this process's.
		ns = append(ns, reexec.Namespace{Type: "!" + typ, Path: "/proc/1/ns/" + typ})
	}
	name, err := hostname.Run(context.Background(), struct{}{}, reexec.Namespaces(ns))
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // e.g. reexec "example-hostname": switch: gons: setns user "/proc/1/ns/user": operation not permitted (needs CAP_SYS_ADMIN over that user namespace)
		return
	}
	fmt.Println(strings.TrimSpace(name))
}
