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

/*
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

// The CPUs the C library says the calling thread may run on: it asks the
// kernel about the thread whose ID it has on record for it.
static int libc_cpus(void)
{
	cpu_set_t set;

	if (pthread_getaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		return -1;
	return CPU_COUNT(&set);
}
*/
import "C"

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/gonsproject/gons/reexec"
	"github.com/gonsproject/gons/reexec/forkserver"
	"github.com/gonsproject/gons/reexec/internal/spawn"
	"golang.org/x/sys/unix"
)

// The main goroutine keeps the process's first thread, so that the action,
// which CheckAction runs on it, runs there: the thread a forked child's C
// library knows from before the fork.
func init() { runtime.LockOSThread() }

// version is set with -ldflags -X main.version=... to tell builds apart.
var version = "unset"

// child is what the action reports.
type child struct {
	Version string
	PPID    int
	FDs     map[string]string // descriptor: what it refers to
	// The CPUs the child's first thread may run on once it has narrowed
	// them to one, as the kernel and as its C library say.
	KernelCPUs, LibcCPUs int
}

var which = reexec.RegisterFunc("which", func(struct{}) (child, error) {
	c := child{Version: version, PPID: os.Getppid(), FDs: map[string]string{}}
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		return c, err
	}
	for cpu := 0; ; cpu++ {
		if cpus.IsSet(cpu) {
			cpus.Zero()
			cpus.Set(cpu)
			break
		}
	}
	if err := unix.SchedSetaffinity(0, &cpus); err != nil {
		return c, err
	}
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		return c, err
	}
	c.KernelCPUs, c.LibcCPUs = cpus.Count(), int(C.libc_cpus())
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
		if command == "stop" {
			forkserver.Stop()
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
