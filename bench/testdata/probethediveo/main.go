// Command probethediveo prints what github.com/thediveo/gons reported at
// start-up and the namespaces the process is in, one "type link" line each,
// so that a benchmark can check that a switch really happened before it
// times one.
package main

import (
	"fmt"
	"os"

	"github.com/thediveo/gons"
)

func main() {
	if err := gons.Status(); err != nil {
		fmt.Println("error", err)
	}
	for _, t := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		link, err := os.Readlink("/proc/self/ns/" + t)
		if err != nil {
			link = err.Error()
		}
		fmt.Println(t, link)
	}
}
