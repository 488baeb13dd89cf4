//go:build cgo

// The examples' output is what a child switched by early's constructor
// prints: without cgo there is no constructor.

package reexec_test

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"

	"github.com/gonsproject/gons/reexec"
)

// Run an action in the namespaces of a process, by PID. The process here
// is made for the example, in a user namespace of its own, so that no
// privilege is needed; joining the namespaces of another user's process
// needs root.
func ExampleTarget() {
	holder := exec.Command("unshare", "--user", "--map-root-user", "--uts",
		"sh", "-c", "hostname example-target && echo ready && exec sleep 60")
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer holder.Wait()
	defer holder.Process.Kill()
	bufio.NewReader(out).ReadString('\n') // "ready": the host name is set

	name, err := hostname.Run(context.Background(), struct{}{}, reexec.Target(holder.Process.Pid, "user", "uts"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(name)
	// Output: example-target
}
