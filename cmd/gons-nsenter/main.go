//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gonsproject/gons/nsexec"
	"github.com/gonsproject/gons/status"
)

// The namespace options, in the order nsenter joins them.
var nsOpts = []struct {
	short byte
	long  string
	typ   string
}{
	{'U', "user", "user"}, {'C', "cgroup", "cgroup"}, {'i', "ipc", "ipc"}, {'u', "uts", "uts"},
	{'n', "net", "net"}, {'p', "pid", "pid"}, {'m', "mount", "mnt"}, {'T', "time", "time"},
}

const usage = `Usage:
 gons-nsenter [options] [<program> [<argument>...]]

Run a program with namespaces of other processes.

Options:
 -a, --all              enter all namespaces of the target
 -t, --target <pid>     target process to get namespaces from
 -m, --mount[=<file>]   enter mount namespace
 -u, --uts[=<file>]     enter UTS namespace (hostname etc)
 -i, --ipc[=<file>]     enter System V IPC namespace
 -n, --net[=<file>]     enter network namespace
 -p, --pid[=<file>]     enter pid namespace
 -C, --cgroup[=<file>]  enter cgroup namespace
 -U, --user[=<file>]    enter user namespace
 -T, --time[=<file>]    enter time namespace
 -S, --setuid <uid>     set uid in entered namespace
 -G, --setgid <gid>     set gid in entered namespace
     --preserve-credentials do not touch uids or gids
 -r, --root[=<dir>]     set the root directory
 -w, --wd[=<dir>]       set the working directory
 -W, --wdns <dir>       set the working directory in namespace
 -F, --no-fork          do not fork before exec'ing <program>
 -h, --help             display this help
`

// options are the parsed command line.
type options struct {
	target   int
	all      bool
	ns       map[string]string // type: file, or "" for the target's
	uid, gid int               // -1: not given
	preserve bool
	root, wd *string // nil: not given; "": the target's
	noFork   bool
	program  []string
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func parse(args []string) (*options, error) {
	o := &options{ns: map[string]string{}, uid: -1, gid: -1}
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			args = args[1:]
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		args = args[1:]
		var err error
		if strings.HasPrefix(a, "--") {
			args, err = o.long(a[2:], args)
		} else {
			args, err = o.short(a[1:], args)
		}
		if err != nil {
			return nil, err
		}
	}
	o.program = args
	return o, nil
}

// long takes one long option, name[=value].
func (o *options) long(a string, rest []string) ([]string, error) {
	name, val, hasVal := strings.Cut(a, "=")
	for _, n := range nsOpts {
		if name == n.long {
			o.ns[n.typ] = val
			return rest, nil
		}
	}
	needs := func() (string, error) {
		if hasVal {
			return val, nil
		}
		if len(rest) == 0 {
			return "", &usageError{"option '--" + name + "' requires an argument"}
		}
		v := rest[0]
		rest = rest[1:]
		return v, nil
	}
	var err error
	switch name {
	case "all":
		o.all = true
	case "no-fork":
		o.noFork = true
	case "preserve-credentials":
		o.preserve = true
	case "root":
		o.root = &val
	case "wd":
		o.wd = &val
	case "target", "setuid", "setgid", "wdns":
		var v string
		if v, err = needs(); err == nil {
			err = o.value(name, v)
		}
	case "help":
		fmt.Print(usage)
		os.Exit(0)
	default:
		err = &usageError{"unrecognized option '--" + name + "'"}
	}
	return rest, err
}

// short takes a cluster of short options, such as "nu" or "t42".
func (o *options) short(a string, rest []string) ([]string, error) {
	for i := 0; i < len(a); i++ {
		c := a[i]
		tail := a[i+1:]
		for _, n := range nsOpts {
			if c == n.short {
				o.ns[n.typ] = strings.TrimPrefix(tail, "=")
				if tail != "" {
					return rest, nil
				}
				goto next
			}
		}
		switch c {
		case 'a':
			o.all = true
		case 'F':
			o.noFork = true
		case 'r', 'w':
			v := strings.TrimPrefix(tail, "=")
			if c == 'r' {
				o.root = &v
			} else {
				o.wd = &v
			}
			return rest, nil
		case 't', 'S', 'G', 'W':
			v := tail
			if v == "" {
				if len(rest) == 0 {
					return rest, &usageError{"option requires an argument -- '" + string(c) + "'"}
				}
				v, rest = rest[0], rest[1:]
			}
			name := map[byte]string{'t': "target", 'S': "setuid", 'G': "setgid", 'W': "wdns"}[c]
			return rest, o.value(name, v)
		case 'h':
			fmt.Print(usage)
			os.Exit(0)
		default:
			return rest, &usageError{"invalid option -- '" + string(c) + "'"}
		}
	next:
	}
	return rest, nil
}

// value takes an option with a required value.
func (o *options) value(name, v string) error {
	if name == "wdns" {
		o.wd = &v
		return nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || name == "target" && (n == 0 || n > 1<<31-1) || n == 1<<32-1 {
		return &usageError{"failed to parse " + map[string]string{"target": "pid", "setuid": "uid", "setgid": "gid"}[name] + ": '" + v + "'"}
	}
	switch name {
	case "target":
		o.target = int(n)
	case "setuid":
		o.uid = int(n)
	case "setgid":
		o.gid = int(n)
	}
	return nil
}

// command turns the options into a Cmd.
func (o *options) command() (*nsexec.Cmd, error) {
	prog := o.program
	if len(prog) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		prog = []string{sh}
	}
	c := nsexec.Command(prog[0], prog[1:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	c.NoFork = o.noFork
	if o.all && o.target == 0 {
		return nil, &usageError{"no target PID specified for --all"}
	}
	var byTarget []string
	user := o.all
	for _, n := range nsOpts {
		file, ok := o.ns[n.typ]
		if !ok {
			continue
		}
		user = user || n.typ == "user"
		switch {
		case file != "":
			c.Namespaces = append(c.Namespaces, nsexec.Namespace{Type: "!" + n.typ, Path: file})
		case o.target == 0:
			return nil, &usageError{"neither filename nor target pid supplied for ns/" + n.typ}
		default:
			byTarget = append(byTarget, n.typ)
		}
	}
	if o.target != 0 && (o.all || len(byTarget) > 0) {
		if len(c.Namespaces) > 0 {
			// Files and the target's namespaces at once: by path, all
			// opened before the first switch, as nsenter does.
			for _, n := range nsOpts {
				if o.all && o.ns[n.typ] == "" || contains(byTarget, n.typ) {
					c.Namespaces = append(c.Namespaces, nsexec.Namespace{Type: "!" + n.typ, Path: "/proc/" + strconv.Itoa(o.target) + "/ns/" + n.typ})
				}
			}
		} else {
			t := &nsexec.Target{PID: o.target}
			if !o.all {
				t.Types = byTarget
			}
			c.Target = t
		}
	}
	if o.root != nil {
		c.Root = *o.root
		if c.Root == "" {
			if o.target == 0 {
				return nil, &usageError{"no target PID specified for --root"}
			}
			if !o.joins("mnt") {
				c.Root = "/proc/" + strconv.Itoa(o.target) + "/root"
			}
		}
	}
	if o.wd != nil {
		c.Dir = *o.wd
		if c.Dir == "" {
			if o.target == 0 {
				return nil, &usageError{"no target PID specified for --wd"}
			}
			c.Dir = "/proc/" + strconv.Itoa(o.target) + "/cwd"
			if o.joins("mnt") {
				// Its path as the target sees it, from its namespace's root.
				d, err := os.Readlink(c.Dir)
				if err != nil {
					return nil, err
				}
				c.Dir = d
			}
		}
	}
	if !o.preserve && (user || o.uid >= 0 || o.gid >= 0) {
		cr := &nsexec.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: true}
		if user && o.uid < 0 && o.gid < 0 {
			// Root of the user namespace joined, as nsenter makes it.
			cr.Uid, cr.Gid, cr.NoSetGroups = 0, 0, false
		}
		if o.uid >= 0 {
			cr.Uid = uint32(o.uid)
		}
		if o.gid >= 0 {
			cr.Gid, cr.NoSetGroups = uint32(o.gid), false
		}
		c.Credential = cr
	}
	return c, nil
}

// joins reports whether the command joins the namespace of type typ.
func (o *options) joins(typ string) bool {
	_, ok := o.ns[typ]
	return ok || o.all
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// exitCode is the status of a failure before the program ran: as
// nsenter's, 127 when the program is not found, 126 when it cannot be
// executed, 1 otherwise.
func exitCode(err error) int {
	var se *status.Error
	if errors.As(err, &se) && se.Op == "exec" {
		if errors.Is(err, unix.ENOENT) {
			return 127
		}
		return 126
	}
	return 1
}

func main() {
	o, err := parse(os.Args[1:])
	var c *nsexec.Cmd
	if err == nil {
		c, err = o.command()
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(os.Stderr, "gons-nsenter: %v\nTry 'gons-nsenter --help' for more information.\n", err)
		os.Exit(1)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gons-nsenter: %v\n", err)
		os.Exit(1)
	}
	// The terminal sends SIGINT and SIGQUIT to the program too: they are
	// caught and dropped rather than ignored, so that the program, whose
	// caught signals execve resets, gets them as it would without this
	// command; unless they were ignored already, as for a background
	// command of a shell without job control. Others are passed on.
	drop := make(chan os.Signal, 8)
	for _, s := range []os.Signal{unix.SIGINT, unix.SIGQUIT} {
		if !signal.Ignored(s) {
			signal.Notify(drop, s)
		}
	}
	go func() {
		for range drop {
		}
	}()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM, unix.SIGPIPE)
	if err := c.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "gons-nsenter: %v\n", err)
		os.Exit(exitCode(err))
	}
	go func() {
		for s := range sigs {
			c.Process.Signal(s)
		}
	}()
	go followStops(c.Process.Pid)
	err = c.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			// Die of it, as the program did, without a core of our own.
			signal.Reset(ws.Signal())
			unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
			unix.Kill(os.Getpid(), ws.Signal())
			select {}
		}
		os.Exit(ws.ExitStatus())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gons-nsenter: %v\n", err)
		os.Exit(1)
	}
}

// followStops makes this process stop when its child, the program or the
// relay, stops, with the child's signal, and continues the child when
// this process is continued, as nsenter does when it forks: a shell then
// sees its job stopped when the program stops by itself, and gives the
// user the terminal back; fg, which continues this process, resumes the
// program too. ^Z, which the terminal sends to both, stops this process
// by itself: a stop signal pending for it when the child's stop is
// reported is left to do that, since stopping here too would stop it a
// second time after fg; so is a stop of the child found once this
// process goes on again, after fg continued both.
func followStops(pid int) {
	runtime.LockOSThread() // see Tgkill below
	stat := "/proc/" + strconv.Itoa(pid) + "/stat"
	for {
		var info childInfo
		err := unix.Waitid(unix.P_PID, pid, (*unix.Siginfo)(unsafe.Pointer(&info)), unix.WSTOPPED, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return // the child ended
		}
		// A stop signal on its way to this process (the terminal's,
		// sent to the whole group) stops it without help. Once it
		// took it, this thread stops too, before it reads on.
		if stopPending() || !stopped(stat) {
			continue
		}
		// To this thread, which so stops before it goes on: a signal
		// to the process may be taken by another thread, and this one
		// would continue the child first.
		unix.Tgkill(os.Getpid(), unix.Gettid(), unix.Signal(info.Status))
		unix.Kill(pid, unix.SIGCONT)
	}
}

// stopped reports whether the process whose /proc/PID/stat is stat is
// stopped (pid (comm) state ...).
func stopped(stat string) bool {
	b, _ := os.ReadFile(stat)
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'T'
}

// stopPending reports whether a stop signal of the terminal (SIGTSTP,
// SIGTTIN, SIGTTOU) is pending for this process: the shared pending set,
// ShdPnd in /proc/self/status.
func stopPending() bool {
	b, _ := os.ReadFile("/proc/self/status")
	_, v, ok := strings.Cut(string(b), "\nShdPnd:\t")
	if !ok {
		return false
	}
	v, _, _ = strings.Cut(v, "\n")
	set, err := strconv.ParseUint(v, 16, 64)
	if err != nil {
		return false
	}
	const mask = 1<<(unix.SIGTSTP-1) | 1<<(unix.SIGTTIN-1) | 1<<(unix.SIGTTOU-1)
	return set&mask != 0
}

// childInfo is the siginfo_t that waitid(2) fills in for a child: the
// union after the first three fields is aligned as a pointer, as in C.
type childInfo struct {
	Signo, Errno, Code int32
	_                  [0]uintptr
	Pid                int32
	Uid                uint32
	Status             int32 // the exit status, or the signal
	_                  [128]byte
}
