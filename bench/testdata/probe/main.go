// Command probe prints what package early reported at start-up and the
// namespaces the process is in, one "type link" line each, so that a
// benchmark can check that a switch really happened before it times one.
package main

import (
	"fmt"
	"os"

	_ "github.com/gonsproject/gons/early"
	"github.com/gonsproject/gons/status"
)

func main() {
	if err := status.Err(); err != nil {
		fmt.Println("error", err)
	}
	if !status.Ran() {
		fmt.Println("error constructor did not run")
	}
	for _, t := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		link, err := os.Readlink("/proc/self/ns/" + t)
		if err != nil {
			link = err.Error()
		}
		fmt.Println(t, link)
	}
}
