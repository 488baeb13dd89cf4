// Package nsexecdriver serves the nsexec benchmark's requests, one a line
// on stdin, answering each on stdout as package driver does (nanoseconds,
// heap allocations, minor faults of the children):
//
//	floor                   exec.Command("/bin/true"), no namespace
//	nsenter PID TYPE...     exec.Command("nsenter", "-t", PID, -n..., "/bin/true"),
//	                        or nsenter -a for the type "all"
//	nsexec PID TYPE...      nsexec.Command("/bin/true") with Target{PID, types},
//	                        every type that differs for "all", by the fork
//	                        server or exec, never the direct start
//	direct PID TYPE...      the same by nsexec's default route: the direct
//	                        start where it applies
//	nsexec                  nsexec.Command("/bin/true"), no namespace
package nsexecdriver

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/internal/nsroute"
	"github.com/gonsproject/gons/nsexec"
)

// nsenterFlags are nsenter's options by type.
var nsenterFlags = map[string]string{
	"cgroup": "-C", "ipc": "-i", "mnt": "-m", "net": "-n", "pid": "-p", "time": "-T", "user": "-U", "uts": "-u",
}

// Serve answers requests until stdin closes.
func Serve() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		var before, after runtime.MemStats
		var ruBefore, ruAfter unix.Rusage
		runtime.ReadMemStats(&before)
		unix.Getrusage(unix.RUSAGE_CHILDREN, &ruBefore)
		start := time.Now()
		err := serve(f)
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		unix.Getrusage(unix.RUSAGE_CHILDREN, &ruAfter)
		if err != nil {
			fmt.Fprintln(os.Stderr, "nsexec driver:", err)
			os.Exit(1)
		}
		fmt.Println(elapsed.Nanoseconds(), after.Mallocs-before.Mallocs, ruAfter.Minflt-ruBefore.Minflt)
	}
}

func serve(f []string) error {
	switch {
	case len(f) == 1 && f[0] == "floor":
		return exec.Command("/bin/true").Run()
	case len(f) >= 3 && f[0] == "nsenter":
		args := []string{"-t", f[1]}
		for _, t := range f[2:] {
			if t == "all" {
				args = append(args, "-a")
			} else {
				args = append(args, nsenterFlags[t])
			}
		}
		return exec.Command("nsenter", append(args, "/bin/true")...).Run()
	case len(f) == 1 && f[0] == "nsexec":
		return nsexec.Command("/bin/true").Run()
	case len(f) >= 3 && (f[0] == "nsexec" || f[0] == "direct"):
		nsroute.NoDirect.Store(f[0] == "nsexec")
		pid, err := strconv.Atoi(f[1])
		if err != nil {
			return err
		}
		c := nsexec.Command("/bin/true")
		c.Target = &nsexec.Target{PID: pid}
		if f[2] != "all" {
			c.Target.Types = f[2:]
		}
		return c.Run()
	}
	return errors.New("bad request " + strings.Join(f, " "))
}
