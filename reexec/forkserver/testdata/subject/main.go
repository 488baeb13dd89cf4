// Command subject runs an action on request, for the lifecycle tests of
// package forkserver. It prints "ready" and the fork server's PID, then
// reads commands from standard input, one a line:
//
//	fork   run the action (through the fork server, if there is one)
//	exec   run the action with a GOGC of its own, which makes it exec
//
// and prints the outcome of each as a line of JSON; "hang fork" and "hang
// exec" start an action that prints "child PID" and never returns.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gonsproject/gons/reexec"
	_ "github.com/gonsproject/gons/reexec/forkserver"
	"github.com/gonsproject/gons/reexec/internal/spawn"
)

// version is set with -ldflags -X main.version=... to tell builds apart.
var version = "unset"

// child is what the action reports.
type child struct {
	Version string
	PPID    int
	FDs     map[string]string // descriptor: what it refers to
}

var which = reexec.RegisterFunc("which", func(struct{}) (child, error) {
	c := child{Version: version, PPID: os.Getppid(), FDs: map[string]string{}}
	fds, err := filepath.Glob("/proc/self/fd/*")
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil {
			c.FDs[filepath.Base(fd)] = l
		}
	}
	return c, err
})

var hang = reexec.RegisterFunc("hang", func(struct{}) (struct{}, error) {
	fmt.Printf("child %d\n", os.Getpid())
	select {}
})

// outcome is what the program prints for a command.
type outcome struct {
	Child   child
	Err     string
	Spawned int // children the fork server started so far
}

func main() {
	reexec.CheckAction()
	fmt.Printf("ready %d\n", spawn.PID())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var opts []reexec.Option
		command, how, _ := strings.Cut(sc.Text(), " ")
		if command == "exec" || how == "exec" {
			opts = append(opts, reexec.Environment([]string{"GOGC=" + strconv.Itoa(101+os.Getpid()%7)}))
		}
		if command == "hang" {
			go hang.Run(context.Background(), struct{}{}, append(opts, reexec.Stdout(os.Stdout))...)
			continue
		}
		var o outcome
		var err error
		o.Child, err = which.Run(context.Background(), struct{}{}, opts...)
		if err != nil {
			o.Err = err.Error()
		}
		o.Spawned = spawn.Spawned()
		b, _ := json.Marshal(o)
		fmt.Println(string(b))
	}
}
