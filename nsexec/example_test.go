package nsexec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gonsproject/gons/nsexec"
	"github.com/gonsproject/gons/status"
)

// Run a program in the network namespace of process 42, as
// nsenter -t 42 -n ip -brief addr does.
func ExampleCommand() {
	c := nsexec.Command("ip", "-brief", "addr")
	c.Target = &nsexec.Target{PID: 42, Types: []string{"net"}}
	out, err := c.Output()
	if err != nil {
		fmt.Println(err) // a *status.Error when it failed before ip ran
		return
	}
	fmt.Printf("%s", out)
}

// Every namespace of a container's process that differs from the caller's,
// as nsenter -a does, with a deadline: the program is killed when it ends.
func ExampleCommandContext() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := nsexec.CommandContext(ctx, "cat", "/etc/hostname")
	c.Target = &nsexec.Target{PID: 42}
	c.Stdout = os.Stdout
	if err := c.Run(); err != nil {
		fmt.Println(err)
	}
}

// Namespace files, such as those ip netns bind-mounts, joined in order;
// a failure names the step, the type and the path.
func ExampleCmd_Start() {
	c := nsexec.Command("ping", "-c1", "10.0.0.1")
	c.Namespaces = []nsexec.Namespace{{Type: "net", Path: "/run/netns/blue"}}
	c.Credential = &nsexec.Credential{Uid: 65534, Gid: 65534}
	if err := c.Start(); err != nil {
		var se *status.Error
		if errors.As(err, &se) {
			fmt.Println(se.Op, se.Type, se.Path, se.Err) // e.g. open net /run/netns/blue no such file or directory
		}
		return
	}
	c.Wait()
}
