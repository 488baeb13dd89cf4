// Command probe reports, as one line of JSON on stdout, what package early
// did to it and what the process looks like afterwards: its namespaces, its
// environment, its open fds. The tests of package early run it with gons_*
// variables set.
//
// The runtime of Go 1.25 and later, for a module at go 1.25 or later, reads
// the cgroup's CPU limit at start-up and keeps those files open to read it
// again: fds that are the runtime's, not the constructor's, which FDs must
// show. The probe runs without that, as a module at go 1.24 ran.
//
//go:debug containermaxprocs=0
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"os/signal"
	"strings"

	"golang.org/x/sys/unix"

	_ "github.com/gonsproject/gons/early"
	"github.com/gonsproject/gons/internal/handoff"
	"github.com/gonsproject/gons/status"
)

// Report is what the probe prints.
type Report struct {
	Ran       bool
	Joined    []string
	Err       *Error            `json:",omitempty"`
	NS        map[string]string // type -> /proc/self/ns link
	FDs       []string          // fds other than 0, 1, 2, as fd=target
	Env       []string          // gons_* and GONS_REEXEC_FD entries the program sees
	ProcEnv   []string          // the entries of /proc/self/environ; nil: unreadable
	SystemEnv []string          // with -system, the entries a C child of system(3) got
	Hostname  string
	Monotonic int64 // CLOCK_MONOTONIC, seconds
	Dumpable  int
	Pid       int
	Exists    bool // whether -exists names an existing path
	Cwd       string
	Child     *Report `json:",omitempty"` // a child's view, with -child

	ReexecFD    int // the descriptor handed over for GONS_REEXEC_FD, or -1
	TargetPID   int // status.Target
	TargetInode uint64
	UIDs, GIDs  [3]int // real, effective, saved
	Groups      []int
}

// Error is a status.Error in JSON. Path is bytes: it need not be UTF-8.
type Error struct {
	Op, Type string
	Path     []byte
	Msg      string
	Errno    int
}

var nsTypes = []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"}

func main() {
	fds := openFDs() // first, before the runtime's poller opens any
	child := flag.Bool("child", false, "also report the view of a child process")
	sub := flag.Bool("sub", false, "report as the child of another probe")
	exists := flag.String("exists", "", "path whose existence to report")
	sys := flag.String("system", "", "a file in which system(3)'s shell leaves the environment it got")
	wait := flag.Bool("wait", false, "after the report, wait for SIGUSR1 and exit 42")
	exit := flag.Int("exit", 0, "exit code")
	kill := flag.Int("kill", 0, "signal to kill the probe with after the report")
	flag.Parse()

	r := report(fds, *exists)
	if *sys != "" {
		r.SystemEnv = systemEnv(*sys)
	}
	if *child && !*sub {
		out, err := exec.Command("/proc/self/exe", "-sub").Output()
		if err != nil {
			fail(err)
		}
		r.Child = new(Report)
		if err := json.Unmarshal(out, r.Child); err != nil {
			fail(err)
		}
	}
	var sigs chan os.Signal
	if *wait {
		sigs = make(chan os.Signal, 1)
		signal.Notify(sigs, unix.SIGUSR1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fail(err)
	}
	if *wait {
		<-sigs
		os.Exit(42)
	}
	if *kill != 0 {
		signal.Reset()
		unix.Kill(os.Getpid(), unix.Signal(*kill))
		select {}
	}
	os.Exit(*exit)
}

func report(fds []string, exists string) *Report {
	r := &Report{Ran: status.Ran(), Joined: status.Joined(), NS: map[string]string{}, FDs: fds}
	if err := status.Err(); err != nil {
		e := &Error{Msg: err.Error()}
		var se *status.Error
		if errors.As(err, &se) {
			e.Op, e.Type, e.Path = se.Op, se.Type, []byte(se.Path)
		}
		var errno unix.Errno
		if errors.As(err, &errno) {
			e.Errno = int(errno)
		}
		r.Err = e
	}
	for _, t := range nsTypes {
		r.NS[t], _ = os.Readlink("/proc/self/ns/" + t)
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "gons_") || strings.HasPrefix(kv, "GONS_REEXEC_FD") {
			r.Env = append(r.Env, kv)
		}
	}
	if b, err := os.ReadFile("/proc/self/environ"); err == nil {
		r.ProcEnv = entries(b)
	}
	r.Hostname, _ = os.Hostname()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
		r.Monotonic = int64(ts.Sec) // int32 on 32-bit systems
	}
	r.Dumpable, _ = unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	r.Pid = os.Getpid()
	if exists != "" {
		_, err := os.Stat(exists)
		r.Exists = err == nil
	}
	r.Cwd, _ = os.Getwd()
	fd, ok := handoff.ReexecFD()
	if r.ReexecFD = -1; ok {
		r.ReexecFD = fd
	}
	r.TargetPID, r.TargetInode, _ = status.Target()
	r.UIDs[0], r.UIDs[1], r.UIDs[2] = unix.Getresuid()
	r.GIDs[0], r.GIDs[1], r.GIDs[2] = unix.Getresgid()
	r.Groups, _ = unix.Getgroups()
	return r
}

// openFDs lists the open fds above 2 with raw system calls, so that the
// listing itself adds none but the one it reads through.
func openFDs() []string {
	dir, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return []string{"unknown: " + err.Error()} // no /proc, as after a chroot
	}
	defer unix.Close(dir)
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(dir, buf)
		if err != nil {
			fail(err)
		}
		if n == 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	var fds []string
	for _, name := range names {
		if name == "0" || name == "1" || name == "2" || name == itoa(dir) {
			continue
		}
		target, _ := os.Readlink("/proc/self/fd/" + name)
		fds = append(fds, name+"="+target)
	}
	return fds
}

// entries splits the contents of an environ file into its entries.
func entries(b []byte) []string {
	if len(b) == 0 {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func fail(err error) {
	os.Stderr.WriteString("probe: " + err.Error() + "\n")
	os.Exit(111)
}
